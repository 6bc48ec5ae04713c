"""python -m listeners.bot_responder: answers every incoming WhatsApp text through the hub.

It registers itself as a listener for `message-received` at start-up and checks every
--check-interval seconds that the hub still lists it (re-registering when the hub forgot it or
disabled it). Each delivery's signature is verified; messages sent from the phone itself and
deliveries already answered (same webhook-id) are ignored. The reply comes from
`reply(event) -> str | None`: an echo by default, or your own with --reply package.module:function.
Replies carry `Idempotency-Key: reply-<event id>`, so even a restarted bot never answers twice.

Good manners, each on by default (`--no-mark-read`, `--no-typing`, `--no-quote` turn them off): the
bot marks the customer's message read, shows "typing…" while `reply` prepares the answer, and
sends the answer quoting the customer's message. Read and typing are courtesies: when the hub
refuses them (say the session is offline), the bot logs it and still answers (the answer queues).
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from listeners.client import HubApiError, HubClient, new_secret
from listeners.receiver import base_arguments, is_registered, parse, serve

log = logging.getLogger("bot_responder")
Reply = Callable[[dict], "str | None"]


def echo(event: dict) -> str | None:
    """The default reply: the received text, back to the same chat."""
    return event["data"].get("text") or None


def load_reply(spec: str | None) -> Reply:
    """`package.module:function` -> that function; None -> echo."""
    if not spec:
        return echo
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name or "reply")


@dataclass(frozen=True)
class Manners:
    """What the bot does around its answer (all on by default)."""

    mark_read: bool = True  # blue ticks for the customer's message
    typing: bool = True  # "typing…" while the answer is prepared
    quote: bool = True  # the answer quotes the customer's message


class BotResponder:
    """Receives message-received events and answers them through POST /api/whatsapp/send."""

    def __init__(self, client: HubClient, callback_url: str, secret: str, reply: Reply = echo,
                 session_id: str | None = None, memory: int = 10_000, manners: Manners = Manners()):
        self.client, self.callback_url, self.secret = client, callback_url, secret
        self.reply, self.session_id, self.memory, self.manners = reply, session_id, memory, manners
        self._answered: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def ensure_registered(self) -> bool:
        """Register unless the hub lists this listener, enabled; True when it registered."""
        if is_registered(self.client.listeners(), self.callback_url):
            return False
        self.client.register_listener(self.callback_url, events=["message-received"],
                                      session_id=self.session_id, secret=self.secret)
        return True

    def on_event(self, event: dict, webhook_id: str) -> None:
        """Answer a delivery once, however often it arrives."""
        if not self._claim(webhook_id):
            log.info("duplicate delivery %s ignored", webhook_id)
            return
        try:
            self._answer(event)
        except Exception:
            self._release(webhook_id)  # not answered: the hub's retry may try again
            raise

    def _answer(self, event: dict) -> None:
        data = event.get("data") or {}
        if event.get("type") != "message-received" or data.get("fromMe"):
            return
        session, chat = event["sessionId"], data["chatId"]
        if self.manners.mark_read:
            self._courtesy(self.client.mark_read, session, chat, [data["messageId"]])
        if self.manners.typing:
            self._courtesy(self.client.presence, session, chat, "typing")
        text = self.reply(event)
        if not text:
            if self.manners.typing:
                self._courtesy(self.client.presence, session, chat, "paused")
            return
        try:
            result = self.client.send(chat, text, session_id=session, idempotency_key=f"reply-{event['id']}",
                                      reply_to=data["messageId"] if self.manners.quote else None)
        except HubApiError as exc:
            if exc.status >= 500:
                raise
            log.error("the hub refused the reply to %s: %s", event["id"], exc)  # retrying cannot help
            return
        log.info("answered %s in %s: %s", event["id"], data["chatId"], result.get("status"))

    def _courtesy(self, call, *args) -> None:
        """Mark read / typing: a refusal (session offline, hub busy) never stops the answer."""
        try:
            call(*args)
        except (HubApiError, OSError) as exc:
            log.warning("%s skipped: %s", call.__name__, exc)

    def _claim(self, webhook_id: str) -> bool:
        with self._lock:
            if webhook_id in self._answered:
                return False
            self._answered[webhook_id] = None
            if len(self._answered) > self.memory:
                self._answered.popitem(last=False)
            return True

    def _release(self, webhook_id: str) -> None:
        with self._lock:
            self._answered.pop(webhook_id, None)


def main(argv=None) -> None:
    parser = base_arguments("Answer incoming WhatsApp texts through the hub.", default_port=3013)
    parser.add_argument("--session", default=os.environ.get("SESSION_ID"),
                        help="only this session's messages (SESSION_ID; default: every session)")
    parser.add_argument("--reply", default=os.environ.get("BOT_REPLY"),
                        help="reply function package.module:function (BOT_REPLY; default: echo)")
    for manner, what in (("mark-read", "mark the customer's message read"), ("typing", 'show "typing…"'),
                         ("quote", "quote the customer's message in the answer")):
        variable = "BOT_" + manner.upper().replace("-", "_")
        parser.add_argument(f"--{manner}", action=argparse.BooleanOptionalAction,
                            default=os.environ.get(variable, "true").lower() not in ("0", "false", "no"),
                            help=f"{what} ({variable}; default on)")
    args = parse(parser, argv)
    manners = Manners(mark_read=args.mark_read, typing=args.typing, quote=args.quote)
    bot = BotResponder(HubClient(args.hub_url, args.api_key), args.public_url, args.secret or new_secret(),
                       load_reply(args.reply), args.session, manners=manners)
    serve(args, bot.secret, bot.ensure_registered, bot.on_event)


if __name__ == "__main__":
    main()

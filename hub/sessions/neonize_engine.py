"""The WhatsApp engine: one neonize (whatsmeow) client per session, bridged into gevent.

A real session's client talks to neonize's Go library; a sandbox session's client talks to
the simulated WhatsApp (`hub.sandbox`) through the same calls, so both run this code. Every call
into the library goes through `hub.sessions.bridge` (see its docstring for why). The client's
store is `HUB_SESSIONS_DIR/<sessionId>/whatsapp.db` or the hub's PostgreSQL database
(`HUB_SESSION_STORE`, hub.sessions.device_store), written by whatsmeow or the simulator.

Ownership of reconnects (one owner at a time): while a dial is alive (its `Neonize` call has not
returned), whatsmeow reconnects by itself after `Disconnected`, so the hub only shows the status
and keeps a watchdog; once the dial ends (an error, the event loop returning) the hub stops that
client and redials with backoff.
"""
from __future__ import annotations

import ctypes
import logging

import gevent
from gevent.monkey import get_original
from neonize import events as ev
from neonize.exc import NeonizeError
from neonize.utils.enum import ClientName
from neonize.utils.jid import build_jid

from hub import native
from hub.errors import Conflict
from hub.sessions import bridge, compose, message_actions
from hub.sessions.device_store import FileStore
from hub.sessions.engine import Engine, EngineError, NotConnected, OutgoingMessage, SendResult

log = logging.getLogger(__name__)

WHATSAPP_HOST = "web.whatsapp.com"
# Everything the hub maps (messages, receipts, lifecycle) plus what other modules may use.
FORWARDED_EVENTS = (ev.MessageEv, ev.ReceiptEv, ev.PairStatusEv, ev.ConnectedEv, ev.DisconnectedEv,
                    ev.LoggedOutEv, ev.StreamReplacedEv, ev.TemporaryBanEv, ev.ConnectFailureEv,
                    ev.ClientOutdatedEv, ev.KeepAliveTimeoutEv, ev.KeepAliveRestoredEv,
                    ev.UndecryptableMessageEv, ev.HistorySyncEv, ev.OfflineSyncPreviewEv,
                    ev.OfflineSyncCompletedEv, ev.GroupInfoEv, ev.JoinedGroupEv, ev.ChatPresenceEv,
                    ev.CallOfferEv)
# Events stored before the callback returns: whatsmeow acknowledges a message once it did.
STORED_BEFORE_ACK = (ev.MessageEv, ev.UndecryptableMessageEv, ev.ReceiptEv, ev.HistorySyncEv)
# Events after which the websocket is down until someone dials again.
DOWN_EVENTS = (ev.DisconnectedEv, ev.LoggedOutEv, ev.StreamReplacedEv, ev.TemporaryBanEv,
               ev.ClientOutdatedEv, ev.ConnectFailureEv)
QR_TIMEOUT_REASON = "qr_timeout: nobody scanned the QR code in time; connect again for a new one"
QR_LIFETIMES = (60.0, 20.0)  # WhatsApp's first code, then each later one
ABANDON_CHECK = 5.0  # seconds after a Stop before a dial thread that has not returned counts as abandoned
_getaddrinfo = get_original("socket", "getaddrinfo")


class NeonizeEngine(Engine):
    """A session on WhatsApp (or on the simulated WhatsApp). Methods block at most their own greenlet."""

    def __init__(self, session_id, store_dir, sink, config, library=None, device_store=None):
        super().__init__(session_id, store_dir, sink, config)
        self.device_store = device_store or FileStore(store_dir)
        self.bridge = bridge.get()
        self.library = library  # None: neonize's Go library; else the simulated one
        self.name = "neonize" if library is None else "sandbox"
        first = getattr(config, "sandbox_qr_seconds", 60.0) if library is not None else QR_LIFETIMES[0]
        self.qr_lifetimes = (first, first / 3) if library is not None else QR_LIFETIMES
        self.inbox = bridge.Inbox(self.bridge, session_id)
        self.run = 0  # which dial is current; results of older ones are ignored
        self.running_dials: set[int] = set()  # dials whose thread has not returned yet
        self.dialled = False
        self.dialling = False
        self.failed_dials = 0
        self.connected = False
        self.waiting_for_scan = False
        self.stopped = False
        self.qr_codes = 0
        self.lid_phones: dict[str, str | None] = {}

    # -- the store (hub.sessions.device_store) --------------------------------------------
    def has_credentials(self) -> bool:
        """A linked device is stored (an unreadable store file counts: start() then says why)."""
        return self.device_store.has_device()

    def forget_credentials(self) -> None:
        self.device_store.forget()

    def reconnects_itself(self) -> bool:
        """Whether whatsmeow owns the reconnect right now (the dial is alive)."""
        return self.dialling

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Dial in a new native thread; results arrive through the sink."""
        self.stopped = False
        self.bridge.in_hub(gevent.spawn, self._redial)

    def _redial(self) -> None:
        if self.stopped:
            return  # stop() came before this greenlet ran
        slot = self.prepare()
        if self.dialled:  # the previous dial's client may still be connected in Go: one connection only
            self._stop_client(slot)
        self.run += 1
        self.dialled = self.dialling = True
        self.connected = self.waiting_for_scan = False
        self.qr_codes = 0
        self.running_dials.add(self.run)
        self.bridge.dial(self._dial, slot.client, self.run, self.failed_dials > 0 and self.library is None)

    def prepare(self) -> bridge.SessionSlot:
        """The session's client (created once) with this engine's handlers registered."""
        self.device_store.prepare(self.bridge, self.library)
        slot = self.bridge.slot(self.session_id, self.device_store.name, self.library)
        self._register_handlers(slot.client)
        self.device_store.address(slot.client)  # which device of the store this dial connects
        return slot

    def _dial(self, client, run: int, check_dns: bool) -> None:
        """Native dial thread: blocks in Go for the connection's whole life."""
        error = _dns_failure() if check_dns else None
        if error is None:
            try:
                client.connect()
                error = ""
            except NeonizeError as exc:
                error = str(exc)
            except Exception as exc:  # a bug must still end as a visible failure
                error = f"{type(exc).__name__}: {exc}"
        self.inbox.post(self._dial_ended, run, error)

    def _dial_ended(self, run: int, error: str) -> None:
        self.running_dials.discard(run)
        if run != self.run:
            return  # an older dial we replaced on purpose
        self.dialling = self.connected = self.waiting_for_scan = False
        if self.stopped:
            return
        # The event loop may have ended while whatsmeow's socket stays up: stop that client first.
        self._stop_client(self.bridge.slots.get(self.session_id))
        self.failed_dials += 1
        log.info("session %s: dial ended: %s", self.session_id, error or "closed",
                 extra={"sessionId": self.session_id})
        self.sink.on_connect_failed(self.session_id, error or "connection closed")

    def stop(self) -> None:
        self.stopped = True
        self.connected = self.waiting_for_scan = self.dialling = False
        self._stop_client(self.bridge.slots.get(self.session_id))
        self._watch_abandoned(self.run)
        self.run += 1  # whatever the stopped dial still reports is ignored

    def _stop_client(self, slot) -> None:
        if slot is not None:  # Stop is safe for a client Go does not know; it also drops a failed dial's entries
            self.bridge.call(slot.client.stop)

    def _watch_abandoned(self, run: int) -> None:
        """A dial thread still inside Go a while after its Stop can never return: count it, never reuse it."""
        if run in self.running_dials:
            gevent.spawn_later(ABANDON_CHECK, self._check_abandoned, run)

    def _check_abandoned(self, run: int) -> None:
        if run in self.running_dials:
            self.running_dials.discard(run)
            self.bridge.abandon_dial()
            log.warning("session %s: a dial thread did not return after Stop; abandoned", self.session_id,
                        extra={"sessionId": self.session_id})

    def logout(self) -> None:
        """Unlink the device at WhatsApp when connected, then forget it here either way."""
        if self.connected:
            try:
                self.bridge.call(self._client().logout)
            except (NeonizeError, EngineError) as exc:
                log.warning("session %s: logout at WhatsApp failed: %s", self.session_id, exc,
                            extra={"sessionId": self.session_id})
        self.stop()
        self.forget_credentials()

    # -- callbacks from Go (native threads: copy, hand over, return) ----------------------
    def _register_handlers(self, client) -> None:
        for event_type in FORWARDED_EVENTS:
            client.event(event_type)(self._on_go_event)
        client.qr(self._on_go_qr)
        # neonize only prints the login status; we need its "timeout" (nobody scanned).
        client._NewClient__onLoginStatus = self._on_go_login_status

    def _on_go_event(self, _client, event) -> None:
        self.bridge.gate.started(self.session_id)
        if not isinstance(event, STORED_BEFORE_ACK) or native.get_ident() == self.bridge.hub.thread_ident:
            self.inbox.post(self._deliver, self.run, event, None)
            return
        stored = native.Signal()  # whatsmeow acknowledges when this callback returns: store first
        self.inbox.post(self._deliver, self.run, event, stored)
        stored.wait()

    def _on_go_qr(self, _client, code: bytes) -> None:
        self.bridge.gate.started(self.session_id)
        lifetime = self.qr_lifetimes[0 if self.qr_codes == 0 else 1]
        self.qr_codes += 1
        self.inbox.post(self._deliver_qr, self.run, code.decode(), lifetime)

    def _on_go_login_status(self, _uuid, status) -> None:
        text = ctypes.string_at(status).decode() if status else ""
        if text != "success":  # the QR phase ended unpaired: this dial's thread never returns
            self.inbox.post(self._qr_phase_ended, self.run, text)

    # -- ... delivered in order from the session's greenlet -----------------------------
    def _deliver(self, run: int, event, stored) -> None:
        try:
            if run != self.run:
                if stored is not None:  # a message of the stopped dial: acknowledged once this returns, so kept
                    self.sink.on_event(self.session_id, event)
                return
            if isinstance(event, ev.ConnectedEv):
                self.connected, self.waiting_for_scan, self.failed_dials = True, False, 0
            elif isinstance(event, DOWN_EVENTS):
                self.connected = False
            self.sink.on_event(self.session_id, event)
        finally:
            if stored is not None:
                stored.set()

    def _deliver_qr(self, run: int, code: str, lifetime: float) -> None:
        if run == self.run and not self.stopped:
            self.waiting_for_scan = True
            self.sink.on_qr(self.session_id, code, lifetime)

    def _qr_phase_ended(self, run: int, status: str) -> None:
        if run != self.run or self.stopped:
            return
        self.dialling = self.waiting_for_scan = False
        self._stop_client(self.bridge.slots.get(self.session_id))
        self._watch_abandoned(run)
        self.run += 1
        reason = QR_TIMEOUT_REASON if status == "timeout" else \
            f"qr_failed: WhatsApp ended the QR phase ({status or 'no status'}); connect again for a new one"
        self.sink.on_connect_failed(self.session_id, reason)

    # -- calls -------------------------------------------------------------------------
    def _client(self):
        if not self.connected:
            raise NotConnected(f"Session '{self.session_id}' is not connected to WhatsApp.")
        return self.bridge.slots[self.session_id].client

    def send(self, to_jid: str, message: OutgoingMessage) -> SendResult:
        client = self._client()
        user, _, server = to_jid.partition("@")
        target = build_jid(user, server or "s.whatsapp.net")
        try:
            response = self.bridge.call(_send, client, target, message, kind="send")
        except NeonizeError as exc:
            raise EngineError(str(exc)) from exc
        except EngineError:
            raise
        except Exception as exc:  # a media helper failed: the same file will fail again
            raise EngineError(f"{type(exc).__name__}: {exc}", permanent=True) from exc
        return SendResult(message_id=response.ID, timestamp=float(response.Timestamp))

    def mark_read(self, chat: str, message_ids: list[str], sender: str | None = None) -> None:
        """Read receipts (goneonize MarkRead) in the control pool, with its deadline."""
        self._control(message_actions.mark_read, chat, message_ids, sender)

    def send_presence(self, chat: str, state: str) -> None:
        """typing / recording / paused in a chat (goneonize SendChatPresence), in the control pool."""
        self._control(message_actions.send_presence, chat, state)

    def _control(self, function, *args) -> None:
        client = self._client()
        try:
            self.bridge.call(function, client, *args, kind="control")
        except NeonizeError as exc:
            raise EngineError(str(exc)) from exc

    def download_media(self, event) -> bytes:
        try:
            return self.bridge.call(self._client().download_any, event.Message, kind="download")
        except NotConnected as exc:
            raise EngineError(exc.message) from exc
        except NeonizeError as exc:
            raise EngineError(str(exc)) from exc

    def decrypt_poll_vote(self, event) -> list[bytes]:
        """The SHA-256 hashes of the options a poll vote (a MessageEv) selected; EngineError if it cannot."""
        try:
            vote = self.bridge.call(self._client().decrypt_poll_vote, event)
        except (NeonizeError, NotConnected) as exc:
            raise EngineError(str(exc)) from exc
        return list(vote.selectedOptions)

    def call(self, method: str, *args):
        """Any neonize client method (contacts, calls) on the control pool; EngineError when WhatsApp refuses."""
        client = self._client()
        target = client.contact if method == "get_contact" else client
        try:
            return self.bridge.call(getattr(target, method), *args)
        except NeonizeError as exc:
            raise EngineError(str(exc)) from exc

    def phone_of_lid(self, lid: str) -> str | None:
        """The phone JID WhatsApp revealed for a LID (goneonize GetPNFromLID; remembered per session)."""
        if lid in self.lid_phones:
            return self.lid_phones[lid]
        user, _, server = lid.partition("@")
        try:
            found = self.bridge.call(self._client().get_pn_from_lid, build_jid(user, server or "lid"))
        except (NeonizeError, NotConnected, EngineError):
            return None
        phone = f"{found.User}@{found.Server}" if found.User else None
        self.lid_phones[lid] = phone
        return phone

    def query(self, method: str, *args):
        """A neonize client call that asks WhatsApp (groups, ...) in the control pool; EngineError with its answer."""
        client = self._client()
        try:
            return self.bridge.call(getattr(client, method), *args)
        except NeonizeError as exc:
            raise EngineError(str(exc)) from exc

    def pair(self, phone: str) -> str:
        if not self.waiting_for_scan:
            raise Conflict("The session is not waiting to be linked (no QR yet).", code="not_waiting_for_scan")
        client = self.bridge.slots[self.session_id].client
        try:
            return self.bridge.call(client.PairPhone, phone, True, ClientName.LINUX)
        except NeonizeError as exc:
            raise EngineError(str(exc)) from exc


def _send(client, target, message: OutgoingMessage):
    """The neonize call for one outgoing message (runs in the send pool): build it, then send_message."""
    if message.kind in message_actions.ACTION_KINDS:
        return message_actions.send_action(client, target, message)
    return client.send_message(target, compose.build(client, message))


def _dns_failure() -> str | None:
    """Resolve WhatsApp before re-dialling: neonize 0.5.2 leaks ~1 fd and ~190 KB per failed dial."""
    try:
        _getaddrinfo(WHATSAPP_HOST, 443)
        return None
    except OSError as exc:
        return f"lookup {WHATSAPP_HOST}: no such host ({exc}; checked before re-dialling)"

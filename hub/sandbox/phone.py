"""The phone side of the simulated WhatsApp: what the `/api/sandbox/...` routes make happen.

A sandbox session's phone scans its QR, customers message it, WhatsApp removes the device,
a second connection replaces the stream, a ban arrives. Everything goes through the
simulated servers to the session's live connection, the way WhatsApp would deliver it.
Runs in greenlets on the hub's thread.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass

import gevent
from neonize.proto import Neonize_pb2 as N

from hub.errors import Conflict
from hub.sandbox import history as sandbox_history
from hub.sandbox.library import BAN_CODE, LOGGED_OUT_CODE, PAIR_CODE, UNENCODABLE, Connection, Goneonize
from hub.sandbox.network import MESSAGE_CODE, RECEIPT_CODE, Network, phone_of
from hub.sandbox.phone_actions import PhoneActions
from hub.sessions import builders
from hub.sessions.compose import attach_context

QR_WAIT = 10.0  # seconds a scan waits for a starting session to show its QR
ACK_WAIT = 10.0  # seconds an inbound message waits for the session to acknowledge it


@dataclass
class InboundSpec:
    """A message arriving at a sandbox session (from a customer, or from the phone itself)."""

    sender: str
    text: str | None = None
    push_name: str = ""
    media: dict | None = None
    from_me: bool = False
    chat: str | None = None
    wait: bool = True
    content: object | None = None  # a built waE2E Message instead of text/media (location, contact, poll, vote)
    context: object | None = None  # a waE2E ContextInfo: what it quotes, whom it mentions


class Phone(PhoneActions):
    """The phone side of every sandbox session."""

    def __init__(self, library: Goneonize, network: Network):
        self.library = library
        self.network = network

    # -- the session's own phone ---------------------------------------------------------
    def scan(self, session_id: str, phone: str | None = None, history: list | None = None) -> str:
        """The QR is scanned: the servers link a device and write it to the session's store; the phone
        then sends the device its `history` (hub.sandbox.history messages), if any."""
        connection = self._showing_qr(session_id)
        device = self.network.link(session_id, connection.store_path, phone or phone_of(session_id), "Sandbox phone")
        self.send_history(session_id, history or [], device)
        connection.device = device["jid"]
        # whatsmeow's PairSuccess.ID is the new device's JID, with its device number (pair.go handlePair).
        device_number = int(device["jid"].partition("@")[0].partition(":")[2] or 0)
        event = N.PairStatus(ID=builders.jid(device["phoneJid"], device_number), BusinessName="", Platform="sandbox",
                             Status=N.PairStatus.SUCCESS, Error="")
        connection.deliver(PAIR_CODE, event.SerializeToString(), None)
        connection.paired.set()
        return device["phoneJid"]

    def send_history(self, session_id: str, messages: list, device: dict | None = None) -> int:
        """A history sync of `messages` for the session's device (queued: it arrives after Connected); its chunks."""
        events = sandbox_history.chunks(messages) if messages else []
        sandbox_history.send(self.network, (device or self.linked(session_id))["jid"], events)
        return len(events)

    def _showing_qr(self, session_id: str) -> Connection:
        deadline = time.monotonic() + QR_WAIT
        while True:
            connection = self.library.connection(session_id)
            if connection is not None and connection.showing_qr:
                return connection
            if connection is not None and connection.device or time.monotonic() > deadline:
                raise Conflict("The session is not showing a QR code; connect it first.", code="not_waiting_for_scan")
            gevent.sleep(0.02)

    def remote_logout(self, session_id: str) -> None:
        """WhatsApp removed the device (unlinked on the phone): LoggedOut, credentials deleted."""
        connection = self.online(session_id)
        self.network.unlink(connection.device, connection.store_path)
        connection.connected = False
        connection.deliver(LOGGED_OUT_CODE, N.LoggedOut(OnConnect=False, Reason=N.LOGGED_OUT).SerializeToString(),
                           None)

    def stream_replaced(self, session_id: str) -> None:
        """Another client connected with this session's keys (whatsmeow does not reconnect after it)."""
        self.online(session_id).replaced()

    def ban(self, session_id: str, seconds: int) -> None:
        """A temporary ban: TemporaryBan now, and again on every connect until it expires."""
        connection = self.online(session_id)
        self.library.bans[connection.device] = time.time() + seconds
        connection.connected = False
        event = N.TemporaryBan(Code=N.TemporaryBan.SEND_TO_TOO_MANY_PEOPLE, Expire=seconds)
        connection.deliver(BAN_CODE, event.SerializeToString(), None)

    def unencodable_receipt(self, session_id: str) -> None:
        """A receipt type goneonize cannot encode (server-error): its event loop ends, the socket stays up."""
        self.online(session_id).deliver(RECEIPT_CODE, UNENCODABLE, None)

    def sent(self, session_id: str) -> list[dict]:
        """What the session sent, as its recipients received it."""
        return self.network.sent(session_id)

    # -- customers -----------------------------------------------------------------------
    def inbound(self, session_id: str, spec: InboundSpec) -> tuple[str, bool]:
        """A message for the session: stored by the servers, delivered, acknowledged. (id, acknowledged)."""
        return self.deliver(session_id, spec, self._content(spec))

    def deliver(self, session_id: str, spec: InboundSpec, content, edit: str = "") -> tuple[str, bool]:
        """Any message content for the session (a text, an edit, a reaction...): (id, acknowledged)."""
        device = self.linked(session_id)
        own = device["phoneJid"]
        is_group = bool(spec.chat and spec.chat.endswith("@g.us")) or None
        event = builders.message_event(content, builders.MessageSpec(
            chat=spec.chat or spec.sender, sender=own if spec.from_me else spec.sender, push_name=spec.push_name,
            from_me=spec.from_me, is_group=is_group, media_type=spec.media["kind"] if spec.media else "", edit=edit))
        seq = self.network.enqueue(device["jid"], MESSAGE_CODE, event.Info.ID, event.SerializeToString())
        acked = self.network.wait_acked(seq, ACK_WAIT) if spec.wait else False
        return event.Info.ID, acked

    def deliver_from(self, session_id: str, sender: str, chat: str | None, content, edit: str = "") -> tuple[str, bool]:
        """`content` from the customer `sender` (in a group `chat`), as the phone-side actions send it."""
        return self.deliver(session_id, InboundSpec(sender=sender, chat=chat), content, edit)

    def _content(self, spec: InboundSpec):
        content = spec.content if spec.content is not None else self._text_or_media(spec)
        return content if spec.context is None else attach_context(content, spec.context)

    def _text_or_media(self, spec: InboundSpec):
        if not spec.media:
            return builders.text_content(spec.text or "")
        media = spec.media
        data: bytes = media["data"]
        path = f"/v/t62.7118-24/{os.urandom(16).hex()}.enc" if media.get("failDownload") \
            else self.network.put_media(data)
        return builders.media_content(media["kind"], mimetype=media["mimetype"], length=len(data),
                                      sha256=hashlib.sha256(data).digest(), direct_path=path,
                                      caption=spec.text or "", filename=media.get("filename") or "")

    # -- lookups -------------------------------------------------------------------------
    def linked(self, session_id: str) -> dict:
        """The session's linked device (409 when it was never linked)."""
        connection = self.library.connection(session_id)
        device = self.network.device(connection.device) if connection is not None and connection.device else None
        device = device or self.network.device_of_client(session_id)
        if device is None:
            raise Conflict(f"Sandbox session '{session_id}' is not linked; scan its QR first.",
                           code="session_not_connected")
        return device

    def online(self, session_id: str) -> Connection:
        """The session's live, connected connection (409 otherwise)."""
        connection = self.library.connection(session_id)
        if connection is None or not connection.connected:
            raise Conflict(f"Sandbox session '{session_id}' is not connected; scan its QR first.",
                           code="session_not_connected")
        return connection

    def acked_ids(self, session_id: str) -> list[str]:
        """Ids of the messages the session acknowledged (the simulator's count, for tests and the console)."""
        device = self.linked(session_id)
        return self.network.acked_ids(device["jid"])


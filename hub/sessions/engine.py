"""The engine interface every session runs on, and what an engine reports back.

An engine speaks neonize: it hands real neonize protobuf events (MessageEv, ReceiptEv,
ConnectedEv, LoggedOutEv, ...) to its sink, which maps them into hub events. There is one
implementation, `NeonizeEngine`; a sandbox session runs it over the simulated WhatsApp.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hub.errors import Conflict


class NotConnected(Conflict):
    """The session is not connected, so WhatsApp cannot be reached through it."""

    code = "session_not_connected"


class EngineError(Exception):
    """An engine call failed (send, download, pair); the message says why.

    `permanent`: the same call would fail again (a media file the helpers cannot process), so a
    send fails at once instead of waiting for its retries.
    """

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclass
class OutgoingMessage:
    """What to send: text, or media bytes with their metadata (caption = text for media)."""

    text: str | None = None
    media: bytes | None = None
    mimetype: str | None = None
    filename: str | None = None
    kind: str = "text"  # text, image, video, audio, voice, document, sticker, location, contact, poll; actions
    voice: bool = False  # audio sent as a voice note (push-to-talk)
    content: dict | None = None  # quote, mentions, link preview, location, contact, poll (hub/outbound/kinds.py)
    target_id: str | None = None  # an action's message (reaction, edit, revoke)
    target_sender: str | None = None  # its author's JID (None: the session's own message)


@dataclass
class SendResult:
    message_id: str
    timestamp: float


class EngineSink(Protocol):
    """What an engine reports to (the SessionManager implements it, per session)."""

    def on_event(self, session_id: str, event) -> None:
        """A neonize protobuf event arrived (messages, receipts, lifecycle)."""

    def on_qr(self, session_id: str, code: str, lifetime: float) -> None:
        """A new QR code to scan, valid for `lifetime` seconds."""

    def on_connect_failed(self, session_id: str, reason: str) -> None:
        """Dialling WhatsApp failed (network, DNS, ...); the manager schedules a reconnect."""


class Engine:
    """One session's connection. Methods may block their own greenlet, never the process."""

    name = "engine"

    def __init__(self, session_id: str, store_dir: Path, sink: EngineSink, config):
        self.session_id = session_id
        self.store_dir = store_dir
        self.sink = sink
        self.config = config

    def has_credentials(self) -> bool:
        """Whether a paired device is stored on disk (then start() reconnects without a QR)."""
        raise NotImplementedError

    def start(self) -> None:
        """Begin connecting; results arrive through the sink. Returns quickly."""
        raise NotImplementedError

    def stop(self) -> None:
        """Disconnect, keeping the credentials."""
        raise NotImplementedError

    def logout(self) -> None:
        """Unlink the device from WhatsApp and delete the credentials."""
        raise NotImplementedError

    def forget_credentials(self) -> None:
        """Delete the stored credentials (after WhatsApp removed the device)."""
        raise NotImplementedError

    def send(self, to_jid: str, message: OutgoingMessage) -> SendResult:
        """Send a message; raises NotConnected or EngineError."""
        raise NotImplementedError

    def mark_read(self, chat: str, message_ids: list[str], sender: str | None = None) -> None:
        """Send read receipts for these messages of `chat`; raises NotConnected or EngineError."""
        raise NotImplementedError

    def send_presence(self, chat: str, state: str) -> None:
        """Show `typing`, `recording` or `paused` in `chat`; raises NotConnected or EngineError."""
        raise NotImplementedError

    def download_media(self, event) -> bytes:
        """The decrypted bytes of a MessageEv's media; raises EngineError."""
        raise NotImplementedError

    def query(self, method: str, *args):
        """A call that asks WhatsApp (neonize client method `method`); raises NotConnected or EngineError."""
        raise NotImplementedError

    def pair(self, phone: str) -> str:
        """A pairing code for `phone` (digits with country code), instead of a QR."""
        raise NotImplementedError

"""The sandbox engine: a simulated phone that feeds real neonize protobuf events to the hub.

Its "credentials" are `sandbox.json` in the session's store directory (so a paired sandbox
session is restored at start-up like a real one); inbound media blobs live beside it so a
download can be retried after a restart; every "sent" message is appended to `sent.jsonl`.
"""
from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import logging
import math
import os
import shutil
import threading
import time
import zlib
from pathlib import Path

from hub.errors import Conflict
from hub.sessions import builders
from hub.sessions.engine import Engine, EngineError, NotConnected, OutgoingMessage, SendResult
from hub.sessions.mapping import content_of

RECEIPT_DELAYS = {"delivered": 0.3, "read": 0.6}  # seconds after a send
# Like WhatsApp, the phone acknowledges in batches: the ids due within one tick go out as ONE
# receipt per (chat, kind), so a burst of sends costs a few receipt events, not two per message.
RECEIPT_TICK = 0.05
log = logging.getLogger(__name__)


class Clock:
    """Runs callbacks after a delay in ONE thread (a greenlet under gevent), not a timer thread each.

    The thread starts with the first call and ends when nothing is left to run.
    """

    def __init__(self, name: str):
        self.name = name
        self._due: list = []  # heap of (when, n, callback, args)
        self._count = itertools.count()
        self._changed = threading.Condition()
        self._running = False

    def call_later(self, delay: float, callback, *args) -> None:
        with self._changed:
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._count), callback, args))
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name=self.name, daemon=True).start()
            self._changed.notify()

    def _run(self) -> None:
        while (task := self._next()) is not None:
            callback, args = task
            try:
                callback(*args)
            except Exception:
                log.exception("%s: callback failed", self.name)

    def _next(self):
        """The next callback once it is due; None (and the thread ends) when nothing is left."""
        with self._changed:
            while self._due:
                wait = self._due[0][0] - time.monotonic()
                if wait <= 0:
                    _, _, callback, args = heapq.heappop(self._due)
                    return callback, args
                self._changed.wait(wait)
            self._running = False
            return None


class SandboxEngine(Engine):
    """A phone you drive through `/api/sandbox/<id>/...`."""

    name = "sandbox"

    def __init__(self, session_id, store_dir, sink, config):
        super().__init__(session_id, store_dir, sink, config)
        self.connected = False
        self.waiting_for_scan = False
        self._lock = threading.Lock()
        self._receipts = Clock(f"sandbox-receipts-{session_id}")
        self._due_receipts: dict[tuple[int, str, str], list[str]] = {}  # (tick, chat, kind) -> ids
        self._sent_file = None  # sent.jsonl, open while the phone is in use

    # -- files -------------------------------------------------------------------------
    @property
    def _credentials(self) -> Path:
        return self.store_dir / "sandbox.json"

    @property
    def _media_dir(self) -> Path:
        return self.store_dir / "sandbox-media"

    @property
    def sent_log(self) -> Path:
        return self.store_dir / "sent.jsonl"

    def has_credentials(self) -> bool:
        return self._credentials.exists()

    def own_jid(self) -> str:
        if self.has_credentials():
            return json.loads(self._credentials.read_text())["jid"]
        return f"5199{zlib.crc32(self.session_id.encode()) % 10**7:07d}@s.whatsapp.net"

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        if self.has_credentials():
            self.connected = True
            self.sink.on_event(self.session_id, builders.connected_event())
        else:
            self.waiting_for_scan = True
            code = f"2@sandbox-{self.session_id}-{os.urandom(8).hex()},sandbox-key,{int(time.time())}"
            self.sink.on_qr(self.session_id, code)

    def stop(self) -> None:
        self.connected = False
        self.waiting_for_scan = False
        with self._lock:
            if self._sent_file is not None:
                self._sent_file.close()
                self._sent_file = None

    def logout(self) -> None:
        self.stop()
        self.forget_credentials()

    def forget_credentials(self) -> None:
        self._credentials.unlink(missing_ok=True)
        shutil.rmtree(self._media_dir, ignore_errors=True)

    def pair(self, phone: str) -> str:
        if not self.waiting_for_scan:
            raise Conflict("The session is not waiting to be linked.", code="not_waiting_for_scan")
        digest = hashlib.sha256(f"{self.session_id}:{phone}".encode()).hexdigest().upper()
        return f"{digest[:4]}-{digest[4:8]}"

    # -- the simulated phone -----------------------------------------------------------
    def scan(self, phone: str | None = None) -> str:
        """The QR is scanned: store credentials, report pairing and connection."""
        if not self.waiting_for_scan:
            raise Conflict("The session is not showing a QR code; connect it first.",
                           code="not_waiting_for_scan")
        device = f"{phone}@s.whatsapp.net" if phone else self.own_jid()
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self._credentials.write_text(json.dumps({"jid": device, "pairedAt": time.time()}))
        self.waiting_for_scan = False
        self.sink.on_event(self.session_id, builders.pair_success_event(device, "Sandbox phone"))
        self.connected = True
        self.sink.on_event(self.session_id, builders.connected_event())
        return device

    def remote_logout(self) -> None:
        """WhatsApp removed this device (as if unlinked from the phone)."""
        self._require_connected()
        self.connected = False
        self.sink.on_event(self.session_id, builders.logged_out_event())

    def inbound(self, sender: str, text: str | None = None, push_name: str = "",
                media: dict | None = None, from_me: bool = False, chat: str | None = None) -> str:
        """A message arrives from `sender` (a JID); returns its message id once handled."""
        self._require_connected()
        if media:
            content = self._media_content(media, text or "")
        else:
            content = builders.text_content(text or "")
        is_group = bool(chat and chat.endswith("@g.us"))
        spec = builders.MessageSpec(chat=chat or sender, sender=self.own_jid() if from_me else sender,
                                    push_name=push_name, from_me=from_me, is_group=is_group,
                                    media_type=media["kind"] if media else "")
        event = builders.message_event(content, spec)
        self.sink.on_event(self.session_id, event)
        return event.Info.ID

    def _media_content(self, media: dict, caption: str):
        data: bytes = media["data"]
        token = os.urandom(12).hex()
        if not media.get("failDownload"):
            self._media_dir.mkdir(parents=True, exist_ok=True)
            (self._media_dir / token).write_bytes(data)
        return builders.media_content(media["kind"], mimetype=media["mimetype"], length=len(data),
                                      sha256=hashlib.sha256(data).digest(),
                                      direct_path=f"/sandbox/{token}", caption=caption,
                                      filename=media.get("filename") or "")

    def _require_connected(self) -> None:
        if not self.connected:
            raise NotConnected(f"Sandbox session '{self.session_id}' is not connected; scan its QR first.")

    # -- engine calls --------------------------------------------------------------------
    def send(self, to_jid: str, message: OutgoingMessage) -> SendResult:
        self._require_connected()
        result = SendResult(message_id=builders.new_message_id(), timestamp=time.time())
        record = {"messageId": result.message_id, "to": to_jid, "kind": message.kind,
                  "text": message.text, "filename": message.filename, "mimetype": message.mimetype,
                  "size": len(message.media) if message.media else None,
                  "sha256": hashlib.sha256(message.media).hexdigest() if message.media else None,
                  "at": result.timestamp}
        line = json.dumps(record) + "\n"
        with self._lock:
            if self._sent_file is None:  # kept open while connected: an open per send is measurable
                self.store_dir.mkdir(parents=True, exist_ok=True)
                self._sent_file = self.sent_log.open("a", buffering=1)  # line-buffered: readable at once
            self._sent_file.write(line)
        self._schedule_receipts(result.message_id, to_jid)
        return result

    def _schedule_receipts(self, message_id: str, chat: str) -> None:
        """Queue the message's delivered and read receipts into the batch of the tick they fall due in."""
        now = time.monotonic()
        for kind, delay in RECEIPT_DELAYS.items():
            tick = math.ceil((now + delay) / RECEIPT_TICK)
            with self._lock:
                batch = self._due_receipts.setdefault((tick, chat, kind), [])
                batch.append(message_id)
                first = len(batch) == 1  # the batch's first id schedules it
            if first:
                self._receipts.call_later(tick * RECEIPT_TICK - now, self._receipt, (tick, chat, kind))

    def _receipt(self, batch: tuple[int, str, str]) -> None:
        """One receipt for every id of the batch (dropped, like the phone's, while disconnected)."""
        with self._lock:
            message_ids = self._due_receipts.pop(batch)
        _, chat, kind = batch
        if self.connected:
            self.sink.on_event(self.session_id, builders.receipt_event(message_ids, chat, kind))

    def sent_messages(self) -> list[dict]:
        """Everything this sandbox phone "sent", oldest first."""
        if not self.sent_log.exists():
            return []
        return [json.loads(line) for line in self.sent_log.read_text().splitlines() if line]

    def download_media(self, event) -> bytes:
        _, _, _, media = content_of(event.Message)
        token = media.directPath.rsplit("/", 1)[-1] if media is not None else ""
        path = self._media_dir / token
        if not token or not path.is_file():
            raise EngineError("media is no longer available on the (sandbox) WhatsApp servers")
        return path.read_bytes()

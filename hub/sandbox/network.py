"""The simulated WhatsApp servers: devices, their message queues, media blobs, what was sent.

Everything here runs on the gevent hub's thread (the simulated library reaches it with
`native.call_on_hub`), because the state lives in the hub's database. A message for a device
is stored before it is handed to the device's connection and stays queued until the device
acknowledges it, which it does only after its event callback returned (README.md, "The simulated WhatsApp"); whatever
is unacknowledged is delivered again when the device connects.
"""
from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
import zlib
from pathlib import Path

import gevent
from gevent.event import Event as GreenEvent
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from hub.cluster.notify import notify
from hub.sandbox.groups import GroupServers
from hub.sandbox.push import ACKED, QUEUED, SAFETY_EVERY, CrossProcessPush
from hub.sandbox.storedb import store_of
from hub.sessions.mapping import content_of, context_data
from hub.store.models import utcnow
from hub.store.sandbox import SandboxDevice, SandboxMedia, SandboxQueued, SandboxSent

log = logging.getLogger(__name__)

MESSAGE_CODE = 17  # neonize's number for MessageEv
RECEIPT_CODE = 18
MEDIA_HOST = "https://mmg.whatsapp.net"


def phone_of(session_id: str) -> str:
    """The number a sandbox session gets when its QR is scanned without one (stable per id)."""
    return f"5199{zlib.crc32(session_id.encode()) % 10**7:07d}"


def lid_of(phone: str) -> str:
    """The simulated LID of a number (WhatsApp's are opaque ~15-digit ids)."""
    return f"{10**14 + zlib.crc32(b'lid:' + phone.encode()) * 7919 % 9 * 10**13 + int(phone) % 10**13}"


THIS_PROCESS = f"{socket.gethostname()} {os.getpid()}"


def process_alive(holder: str) -> bool:
    """Whether the process "<host> <pid>" still has its sockets open (the kernel closes a dead one's at once).

    Another host's process is taken as alive: the servers cannot tell, and a wrong guess only counts
    a double connection that did not happen.
    """
    host, _, pid = holder.rpartition(" ")
    if host != socket.gethostname():
        return True
    try:
        state = Path(f"/proc/{int(pid)}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie's sockets are closed already


# Built once: the per-message statements (building one costs more than running it).
ENQUEUE = insert(SandboxQueued).returning(SandboxQueued.seq)
ACK = update(SandboxQueued).where(SandboxQueued.seq == bindparam("queued")).values(acked=True)
ORIGIN = select(SandboxQueued.origin, SandboxQueued.device, SandboxQueued.message_id).where(
    SandboxQueued.seq == bindparam("queued"))


class Network:
    """One simulated WhatsApp shared by every sandbox session of this hub (hub thread only)."""

    def __init__(self, store, listener=None):
        self.store = store
        self.online: dict[str, object] = {}  # device JID -> its live Connection in this process
        self._acked: dict[int, GreenEvent] = {}
        self._in_flight: dict[int, tuple] = {}  # seq -> (origin, device, message id) until acknowledged
        self._devices: dict[str, dict] = {}  # device JID -> view (devices change only through link/unlink)
        self._by_user: dict[str, list[dict]] = {}  # number or LID user -> its devices' views
        self._closed_sockets: set[str] = set()  # devices whose socket here closed, not yet recorded
        self.counters = {"double_connections": 0, "acked": 0, "redelivered": 0}
        self.groups = GroupServers(self)
        self.push = CrossProcessPush(self, listener)  # what other hub processes queue for devices online here

    # -- devices -----------------------------------------------------------------------
    def link(self, client: str, store_path: str, phone: str, push_name: str) -> dict:
        """A QR scan: a new linked device of `phone`, written to the client's store (its credentials)."""
        with self.store.session() as db:
            taken = db.scalars(select(SandboxDevice.jid).where(SandboxDevice.phone == phone)).all()
            jid = f"{phone}:{len(taken) + 2}@s.whatsapp.net"  # device 0 is the phone itself
            db.add(SandboxDevice(jid=jid, phone=phone, lid=f"{lid_of(phone)}@lid", client=client,
                                 push_name=push_name))
        store_of(store_path).write_device(store_path, jid, f"{lid_of(phone)}@lid", push_name)
        self._by_user.clear()
        return self.device(jid)

    def unlink(self, jid: str, store_path: str | None) -> None:
        """The device is removed (logout from either side): its queue and credentials go too."""
        self._devices.pop(jid, None)
        self._by_user.clear()
        with self.store.session() as db:
            db.execute(delete(SandboxQueued).where(SandboxQueued.device == jid))
            db.execute(delete(SandboxDevice).where(SandboxDevice.jid == jid))
        if store_path:
            store_of(store_path).forget_device(store_path, jid)

    def device(self, jid: str) -> dict | None:
        view = self._devices.get(jid)
        if view is None:
            with self.store.session() as db:
                row = db.get(SandboxDevice, jid)
                view = _device_view(row) if row else None
            if view is not None:
                self._devices[jid] = view
        return view

    def device_of_client(self, client: str) -> dict | None:
        """The newest device linked through the neonize client `client` (a session id)."""
        with self.store.session() as db:
            row = db.scalars(select(SandboxDevice).where(SandboxDevice.client == client)
                             .order_by(SandboxDevice.linked_at.desc()).limit(1)).first()
            return _device_view(row) if row else None

    def devices_of(self, user: str) -> list[dict]:
        """The linked devices of a number (or of its LID); remembered until a device links or unlinks."""
        found = self._by_user.get(user)
        if found is None:
            with self.store.session() as db:
                rows = db.scalars(select(SandboxDevice).where(
                    (SandboxDevice.phone == user) | (SandboxDevice.lid == f"{user}@lid"))).all()
                found = self._by_user[user] = [_device_view(row) for row in rows]
        return found

    def device_by_lid(self, lid_user: str) -> dict | None:
        devices = self.devices_of(lid_user)
        return devices[0] if devices else None

    # -- connections -------------------------------------------------------------------
    def attach(self, connection) -> None:
        """A device connects: an older connection of it is replaced (WhatsApp's stream:error conflict).

        The older one may be in another hub process (scale-out): the servers know which process's
        socket is open (`connected_by`); one still alive makes this a double connection too.
        """
        older = self.online.get(connection.device)
        elsewhere = self._claim_socket(connection.device)
        if (older is not None and older is not connection) or elsewhere:
            self.counters["double_connections"] += 1
            log.warning("sandbox: device %s connected twice; replacing the older stream", connection.device)
            with self.store.session() as db:
                db.execute(update(SandboxDevice).where(SandboxDevice.jid == connection.device)
                           .values(double_connections=SandboxDevice.double_connections + 1))
            if older is not None and older is not connection:
                older.replaced()
        self.online[connection.device] = connection
        for seq, code, payload in self.pending(connection.device):
            self._give(connection, code, payload, seq)
        self.push.watch()

    def detach(self, connection) -> None:
        if connection.device and self.online.get(connection.device) is connection:
            del self.online[connection.device]
            self.push.closed(connection.device)
            self._closed_sockets.add(connection.device)
            self._forget_closed_sockets()

    def _forget_closed_sockets(self) -> None:
        """Record that this process's sockets of closed devices are gone; retried while the database is down.

        (The real servers notice a closed socket at once; these keep that knowledge in the hub's database,
        so a close during an outage is written when the database returns.)
        """
        try:
            with self.store.session() as db:
                db.execute(update(SandboxDevice).where(SandboxDevice.jid.in_(list(self._closed_sockets)),
                                                       SandboxDevice.connected_by == THIS_PROCESS)
                           .values(connected_by=None))
            self._closed_sockets.clear()
        except SQLAlchemyError:
            gevent.spawn_later(0.1, self._forget_closed_sockets)

    def _claim_socket(self, device: str) -> bool:
        """Record this process as the device's socket; whether another live process had it open."""
        with self.store.session() as db:
            row = db.get(SandboxDevice, device, with_for_update=True)
            if row is None:
                return False
            holder, row.connected_by = row.connected_by, THIS_PROCESS
        return holder is not None and holder != THIS_PROCESS and process_alive(holder)

    def pending(self, device: str) -> list[tuple[int, int, bytes]]:
        """The device's unacknowledged messages, oldest first (delivered again on every connect)."""
        with self.store.session() as db:
            rows = db.execute(select(SandboxQueued.seq, SandboxQueued.code, SandboxQueued.payload)
                              .where(SandboxQueued.device == device, SandboxQueued.acked.is_(False))
                              .order_by(SandboxQueued.seq)).all()
        self.counters["redelivered"] += len(rows)
        return [tuple(row) for row in rows]

    # -- messages ----------------------------------------------------------------------
    def enqueue(self, device: str, code: int, message_id: str, payload: bytes, origin: str | None = None) -> int:
        """Store a message for `device` (durably), then hand it to its connection if it is online."""
        def write(db) -> int:
            if self.push.shared:  # the process where the device is online hands it over (hub/sandbox/push.py)
                notify(db, QUEUED, device)
            return db.connection().execute(ENQUEUE, {"device": device, "code": code, "message_id": message_id,
                                                     "payload": payload, "origin": origin, "acked": False,
                                                     "deliveries": 0, "created_at": utcnow()}).scalar_one()
        seq = self.store.writes.run(write)
        self._acked[seq] = GreenEvent()
        self._in_flight[seq] = (origin, device, message_id)
        connection = self.online.get(device)
        if connection is not None:
            self._give(connection, code, payload, seq)
        return seq

    def _give(self, connection, code: int, payload: bytes, seq: int) -> None:
        """Hand a queued message to the device's connection here, once (the push poll may have been first)."""
        if seq not in self.push.handed:
            self.push.hand(seq, connection.device)
            connection.deliver(code, payload, seq)

    def ack(self, seq: int) -> None:
        """The device's callback returned: the message is no longer redelivered."""
        known = self._in_flight.pop(seq, None)
        self.push.acked(seq)

        def write(db):
            if self.push.shared:  # a phone-side call may wait for it in another process
                notify(db, ACKED, str(seq))
            db.connection().execute(ACK, {"queued": seq})
            return known or db.connection().execute(ORIGIN, {"queued": seq}).first()
        row = self.store.writes.run(write)
        self.counters["acked"] += 1
        waiter = self._acked.pop(seq, None)
        if waiter is not None:
            waiter.set()
        if row is not None and row[0]:
            self.receipt(row[0], row[1], [row[2]], "delivered")

    def wait_acked(self, seq: int, timeout: float) -> bool:
        """Until the device acknowledged message `seq` (True) or `timeout` passed (False).

        The device may be connected in another hub process, which records the acknowledgement and
        announces it (`acked_elsewhere`); now and then the queue row is read too, in case the
        announcement was lost.
        """
        waiter = self._acked.get(seq)
        deadline = time.monotonic() + timeout
        while waiter is not None and not waiter.wait(min(SAFETY_EVERY, max(deadline - time.monotonic(), 0))):
            if self._acked_in_queue(seq):
                break
            if time.monotonic() >= deadline:
                return False
        self._acked.pop(seq, None)
        return True

    def acked_elsewhere(self, seq: int) -> None:
        """Another process recorded the device's acknowledgement of `seq`: a call waiting here returns."""
        self._in_flight.pop(seq, None)
        waiter = self._acked.get(seq)
        if waiter is not None:
            waiter.set()

    def _acked_in_queue(self, seq: int) -> bool:
        """Whether the queue row of `seq` is acknowledged (by whichever process holds the device's socket)."""
        if not self.push.shared:
            return False
        with self.store.session() as db:
            if not db.scalar(select(SandboxQueued.acked).where(SandboxQueued.seq == seq)):
                return False
        self._in_flight.pop(seq, None)
        return True

    def acked_ids(self, device: str) -> list[str]:
        """The ids of every message the device acknowledged (what the hub must have stored)."""
        with self.store.session() as db:
            return list(db.scalars(select(SandboxQueued.message_id).where(
                SandboxQueued.device == device, SandboxQueued.acked.is_(True)).order_by(SandboxQueued.seq)))

    def receipt(self, device: str, from_device: str, message_ids: list[str], kind: str) -> None:
        """A delivered/read receipt for `device`'s messages, from the phone of `from_device`."""
        from hub.sessions import builders  # noqa: PLC0415  (builders import neonize; keep this module light)

        connection = self.online.get(device)
        if connection is not None:
            chat = from_device.split(":")[0].split("@")[0] + "@s.whatsapp.net"
            event = builders.receipt_event(message_ids, chat, kind)
            connection.deliver(RECEIPT_CODE, event.SerializeToString(), None)

    def record_sent(self, client: str, to: str, message_id: str, message, payload: bytes) -> None:
        """What the recipient's phone received from `client` (GET /api/sandbox/<id>/sent)."""
        summary = summarize(message, to, message_id)

        def write(db):
            db.add(SandboxSent(client=client, message_id=message_id, to=to, summary=summary, payload=payload))
        self.store.writes.run(write)

    def sent(self, client: str) -> list[dict]:
        with self.store.session() as db:
            rows = db.scalars(select(SandboxSent.summary).where(SandboxSent.client == client)
                              .order_by(SandboxSent.seq)).all()
            return list(rows)

    # -- media -------------------------------------------------------------------------
    def put_media(self, data: bytes) -> str:
        """Store an uploaded blob; its direct path."""
        path = f"/v/t62.7118-24/{os.urandom(16).hex()}.enc"

        def write(db):
            db.add(SandboxMedia(direct_path=path, data=data))
        self.store.writes.run(write)
        return path

    def get_media(self, direct_path: str) -> bytes | None:
        with self.store.session() as db:
            row = db.get(SandboxMedia, direct_path)
            return row.data if row else None

    def metric_families(self, library) -> list:
        """/metrics: what the simulated servers saw (double connections must stay 0)."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        return [CounterMetricFamily("hub_sandbox_double_connections", "Times a simulated device was connected "
                                    "twice at once (the hub must stop a client before dialling again).",
                                    value=self.counters["double_connections"]),
                CounterMetricFamily("hub_sandbox_acknowledged", "Messages sandbox sessions acknowledged.",
                                    value=self.counters["acked"]),
                CounterMetricFamily("hub_sandbox_redelivered", "Unacknowledged messages delivered again at a "
                                    "connect.", value=self.counters["redelivered"]),
                GaugeMetricFamily("hub_sandbox_stuck_dial_threads", "Simulated Neonize calls that can never "
                                  "return (as goneonize's would not).", value=library.stuck_threads),
                CounterMetricFamily("hub_sandbox_nil_client_calls", "Calls for a client the simulated library does "
                                    "not know (goneonize would crash).", value=library.nil_client_calls)]

    def spawn(self, function, *args) -> None:
        """Run network work later in its own greenlet (receipts after a send, say)."""
        gevent.spawn(function, *args)


def summarize(message, to: str, message_id: str) -> dict:
    """The phone side's record of a received message (kind, text, file facts, flags)."""
    from hub.sandbox.actions import action_summary  # noqa: PLC0415  (actions imports this module)

    action = action_summary(message)
    if action is not None:
        return {"messageId": message_id, "to": to, **action}
    kind, text, extra, media = content_of(message)
    summary = {"messageId": message_id, "to": to, "kind": kind, "text": text or None, **extra,
               **context_data(message), **link_preview_of(message)}
    if media is not None:
        summary.update(filename=getattr(media, "fileName", "") or None, mimetype=media.mimetype or None,
                       size=media.fileLength or None, sha256=media.fileSHA256.hex() or None,
                       directPath=media.directPath or None)
    return summary


def link_preview_of(message) -> dict:
    """The link preview a text carries (extendedTextMessage matchedText, title, description)."""
    extended = message.extendedTextMessage
    if not extended.matchedText:
        return {}
    return {"linkPreview": {"url": extended.matchedText, "title": extended.title or None,
                            "description": extended.description or None}}


def _device_view(row: SandboxDevice) -> dict:
    return {"jid": row.jid, "phone": row.phone, "lid": row.lid, "client": row.client,
            "pushName": row.push_name, "phoneJid": f"{row.phone}@s.whatsapp.net"}


def file_hashes(data: bytes, media_key: bytes) -> tuple[bytes, bytes]:
    """(fileSHA256, fileEncSHA256) as WhatsApp reports them for an upload."""
    return hashlib.sha256(data).digest(), hashlib.sha256(media_key + data).digest()


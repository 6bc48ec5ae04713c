"""A stand-in for goneonize (neonize's Go library) over the simulated WhatsApp network.

`Goneonize` has the exported functions neonize's `NewClient` calls, with the arguments neonize
passes (`neonize/_binder.py` argtypes) and the returns its errcheck hooks produce (serialized
protobufs as `bytes`, C strings as `bytes`, `bool`). It is installed as a client's library
object, so neonize's Python client, its media builders and the hub's bridge all run exactly as
with the real library. Each function's docstring names the goneonize function (goneonize
0.5.2 `main.go`) and whatsmeow behaviour it reproduces — including the sharp edges of
`docs/architecture.md` ("The engine boundary"), so that the hub's handling of them is tested.

Threads: `Neonize` blocks its (native) calling thread for the connection's life, runs the QR
phase and the event loop there and calls neonize's ctypes callbacks from it, as goneonize's
`CallbackFunction` does; timers run on their own OS threads (goroutines). State the servers
keep is in the hub's database, reached through `native.call_on_hub`.
"""
from __future__ import annotations

import ctypes
import logging
import os
import sys
import time
from dataclasses import dataclass, field

from neonize.proto import Neonize_pb2 as N
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E

from hub import native
from hub.sandbox.actions import MessageActions
from hub.sandbox.builders import MessageBuilders
from hub.sandbox.contacts import ContactFunctions
from hub.sandbox.groups import GroupCalls
from hub.sandbox.network import MESSAGE_CODE, Network, file_hashes
from hub.sandbox.phone_actions import edit_attribute
from hub.sandbox.receipts import ReceiptClock
from hub.sandbox.storedb import store_of
from hub.sessions import builders
from hub.sessions.mapping import content_of, device_jid_str, jid_str

log = logging.getLogger(__name__)

QR_CODES = 6  # whatsmeow's QR channel emits six codes, then "timeout"
DEVICE_CODE, QR_EVENT_CODE, PAIR_CODE, CONNECTED_CODE = 0, 1, 2, 3
LOGGED_OUT_CODE, STREAM_REPLACED_CODE, BAN_CODE, DISCONNECTED_CODE = 6, 7, 8, 12
NOT_CONNECTED = "websocket not connected"  # whatsmeow's ErrNotConnected
UNENCODABLE = "unencodable"  # an item goneonize's proto.Marshal rejects (trap 10)
POLL = 0.05


@dataclass
class Connection:
    """One client (goneonize's `clients[uuid]`, `eventChannel[uuid]` and `StopSignal[uuid]`)."""

    uuid: str
    store_path: str
    library: Goneonize
    device: str | None = None
    connected: bool = False
    showing_qr: bool = False
    channel: native.Channel = field(default_factory=lambda: native.Channel(10**6))
    cancelled: native.Signal = field(default_factory=native.Signal)
    paired: native.Signal = field(default_factory=native.Signal)

    def deliver(self, code: int, payload: bytes | str, seq: int | None) -> None:
        """whatsmeow's event handler: queue an event for the Neonize thread (any thread)."""
        self.channel.put((code, payload, seq))

    def replaced(self) -> None:
        """Another connection of this device took over (stream:error conflict): this one is down."""
        self.connected = False
        self.deliver(STREAM_REPLACED_CODE, N.StreamReplaced().SerializeToString(), None)


class Goneonize(MessageBuilders, MessageActions, GroupCalls, ContactFunctions):
    """The simulated library object (one per process, shared by every sandbox client)."""

    def __init__(self, network: Network, hub, qr_seconds: float = 60.0):
        self.network = network
        self.hub = hub
        self.qr_seconds = qr_seconds
        self.clients: dict[str, Connection] = {}
        self.receipts = ReceiptClock(self)
        self._calls = 0  # calls inside the library right now (Go's unlocked maps: see _map_write)
        self._calls_lock = native.real_lock()
        self.stuck_threads = 0  # Neonize calls that can never return (trap 1)
        self.nil_client_calls = 0
        self.bans: dict[str, float] = {}  # device JID -> when its temporary ban ends (time.time())

    # -- helpers -----------------------------------------------------------------------
    def _on_hub(self, function, *args):
        return native.call_on_hub(self.hub, function, *args)

    def _enter(self) -> None:
        with self._calls_lock:
            self._calls += 1

    def _leave(self) -> None:
        with self._calls_lock:
            self._calls -= 1

    def _map_write(self, where: str) -> None:
        """goneonize writes its client maps without a lock: a concurrent call kills the process."""
        with self._calls_lock:
            others = self._calls - 1
        if others > 0:
            sys.stderr.write(f"fatal error: concurrent map writes ({where} while {others} other call(s) ran; "
                             "goneonize's maps have no lock)\n")
            sys.stderr.flush()
            os._exit(2)

    def _client(self, uuid: bytes) -> Connection | None:
        connection = self.clients.get(uuid.decode())
        if connection is None:  # goneonize would dereference a nil *whatsmeow.Client here
            self.nil_client_calls += 1
            log.error("sandbox: call for client %s that goneonize does not know", uuid.decode())
        return connection

    # -- lifecycle ---------------------------------------------------------------------
    def Neonize(self, db, uuid, jid, jid_size, new_device, log_level, qr_cb, status_cb, event_cb, log_cb,
                subscribers, subscribers_size, props, props_size, pair_phone, pair_phone_size, proxy):
        """goneonize `Neonize`: register the client, pair (QR) or connect, then run the event loop.

        Blocks until `Stop` (returns b"") or until the event loop fails (an error string). Without a
        linked device: six QR codes (the first lives HUB_SANDBOX_QR_SECONDS, the others a third of
        it) through `qr_cb`, then login status "timeout" through `status_cb` — after which, like
        goneonize's `FetchMe` (`for cli.ID == nil {sleep}`), this call never returns. A `Stop`
        while a QR shows ends whatsmeow's QR emitter without closing its channel, so this call
        never returns either.
        """
        self._enter()
        try:
            self._map_write("Neonize")
            connection = Connection(uuid.decode(), db.decode(), self)
            self.clients[connection.uuid] = connection  # an older client of this uuid is not stopped
        finally:
            self._leave()
        stored = self._dialled_device(connection, N.JID.FromString(jid[:jid_size]) if jid_size else None, new_device)
        uuid_c = ctypes.create_string_buffer(uuid)
        if stored is None:
            outcome = self._qr_phase(connection, uuid_c, qr_cb)
            if outcome == "stopped":
                self._block_forever("Stop while a QR code was showing: the QR channel is never closed")
            _call_string(status_cb, uuid_c, outcome)
            self._fetch_me(connection)
        else:
            connection.device = stored["jid"]
        self._connect(connection)
        _call_event(event_cb, uuid, self._device_event(connection), DEVICE_CODE)
        return self._event_loop(connection, uuid, event_cb)

    def _dialled_device(self, connection: Connection, jid, new_device: int) -> dict | None:
        """goneonize `Neonize`: `GetDevice(jid)`, `NewDevice()` (None: a QR) or `GetFirstDevice()` of the store.

        For a JID the store does not hold, `GetDevice` answers nil and goneonize hands it to
        `whatsmeow.NewClient`, which dereferences it: the process dies (reproduced with the real library).
        """
        wanted = device_jid_str(jid) or None
        try:
            return self._on_hub(store_of(connection.store_path).read_device, connection.store_path, wanted,
                                bool(new_device))
        except LookupError:
            sys.stderr.write(f"panic: runtime error: invalid memory address or nil pointer dereference "
                             f"(whatsmeow.NewClient: GetDevice({wanted}) found no device)\n")
            sys.stderr.flush()
            os._exit(2)

    def _qr_phase(self, connection: Connection, uuid_c, qr_cb) -> str:
        """whatsmeow's QR channel: codes until paired ("success"), stopped, or "timeout"."""
        connection.showing_qr = True
        try:
            for index in range(QR_CODES):
                code = f"2@sandbox{os.urandom(12).hex()},{os.urandom(16).hex()},{connection.uuid},{index}"
                _call_string(qr_cb, uuid_c, code)
                lifetime = self.qr_seconds if index == 0 else self.qr_seconds / 3
                deadline = time.monotonic() + lifetime
                while time.monotonic() < deadline:
                    if connection.paired.wait(POLL):
                        return "success"
                    if connection.cancelled.is_set():
                        return "stopped"
            return "timeout"
        finally:
            connection.showing_qr = False

    def _fetch_me(self, connection: Connection) -> None:
        """goneonize `FetchMe`: loops until the store has a device ID, ignoring `Stop`."""
        if connection.device is None:
            self._block_forever("QR phase ended without pairing: FetchMe waits for a device ID forever")

    def _block_forever(self, why: str) -> None:
        self.stuck_threads += 1
        log.warning("sandbox: a Neonize call will never return (%s), as goneonize's would", why)
        native.Signal().wait()

    def _connect(self, connection: Connection) -> None:
        """client.Connect() for a linked device: Connected, then what the servers held for it."""
        if self._on_hub(self.network.device, connection.device) is None:
            # The servers no longer know the device (it was removed): whatsmeow reports a 401 logout.
            event = N.LoggedOut(OnConnect=True, Reason=N.LOGGED_OUT)
            connection.deliver(LOGGED_OUT_CODE, event.SerializeToString(), None)
            return
        banned_for = self.bans.get(connection.device, 0) - time.time()
        if banned_for > 0:  # whatsmeow gets <failure reason=402> and reports the ban again
            event = N.TemporaryBan(Code=N.TemporaryBan.SEND_TO_TOO_MANY_PEOPLE, Expire=int(banned_for) + 1)
            connection.deliver(BAN_CODE, event.SerializeToString(), None)
            return
        connection.connected = True
        connection.deliver(CONNECTED_CODE, N.Connected(status=True).SerializeToString(), None)
        self._on_hub(self.network.attach, connection)

    def _device_event(self, connection: Connection) -> bytes:
        device = builders.jid(connection.device.split(":")[0].split("@")[0] + "@s.whatsapp.net")
        return N.Device(JID=device, Platform="sandbox", BussinessName="", PushName="Sandbox phone",
                        Initialized=True).SerializeToString()

    def _event_loop(self, connection: Connection, uuid: bytes, event_cb) -> bytes:
        """goneonize `CallbackFunction`: each event to Python in order; a message is acked on return."""
        while not connection.cancelled.is_set():
            item = connection.channel.get(0.1)
            if item is None:
                continue
            code, payload, seq = item
            if payload == UNENCODABLE:  # proto.Marshal failed: the loop returns, the socket stays up
                return b"proto: cannot encode receipt type server-error"
            _call_event(event_cb, uuid, payload, code)
            if seq is not None:
                self.hub.loop.run_callback_threadsafe(self.network.spawn, self.network.ack, seq)
        return b""

    def Stop(self, uuid):
        """goneonize `Stop`: disconnect, forget the client, cancel its context (Neonize returns)."""
        self._enter()
        try:
            self._map_write("Stop")
            connection = self.clients.pop(uuid.decode(), None)
        finally:
            self._leave()
        if connection is not None:
            self._disconnect(connection)
        return b""

    def StopAll(self):
        """goneonize `StopAll`: Stop every client."""
        for uuid in list(self.clients):
            self.Stop(uuid.encode())
        return b""

    def _disconnect(self, connection: Connection) -> None:
        connection.connected = False
        connection.cancelled.set()
        if connection.device:
            self._on_hub(self.network.detach, connection)

    def IsConnected(self, uuid) -> bool:
        """goneonize `IsConnected`."""
        connection = self.clients.get(uuid.decode())
        return bool(connection and connection.connected)

    def IsLoggedIn(self, uuid) -> bool:
        """goneonize `IsLoggedIn`: connected and paired."""
        connection = self.clients.get(uuid.decode())
        return bool(connection and connection.connected and connection.device)

    def GetMe(self, uuid):
        """goneonize `GetMe`: on a client that never connected, Go dereferences nil and the process dies."""
        connection = self.clients.get(uuid.decode())
        if connection is None or connection.device is None:
            sys.stderr.write("panic: runtime error: invalid memory address or nil pointer dereference (GetMe)\n")
            sys.stderr.flush()
            os._exit(2)
        return self._device_event(connection)

    # -- calls -------------------------------------------------------------------------
    def _call(self, uuid, reply_type, work):
        """Run `work(connection)` for a connected client; its reply, or `reply_type(Error=...)`."""
        self._enter()
        try:
            connection = self._client(uuid)
            if connection is None:
                return reply_type(Error="client not found").SerializeToString()
            if not connection.connected:
                return reply_type(Error=NOT_CONNECTED).SerializeToString()
            return work(connection).SerializeToString()
        finally:
            self._leave()

    def SendMessage(self, uuid, to, to_size, message, message_size):
        """goneonize `SendMessage` → SendMessageReturnFunction (whatsmeow `Client.SendMessage`)."""
        target = N.JID.FromString(bytes(to[:to_size]))
        content = E.Message.FromString(bytes(message[:message_size]))

        def send(connection: Connection):
            message_id, stamp = builders.new_message_id(), int(time.time())
            self._on_hub(self._route, connection, jid_str(target), content, message_id)
            timings = N.MessageDebugTimings(Queue=0, Marshal=0, GetParticipants=0, GetDevices=0, GroupEncrypt=0,
                                            PeerEncrypt=0, Send=0, Resp=0, Retry=0)
            return N.SendMessageReturnFunction(SendResponse=N.SendResponse(
                Timestamp=stamp, ID=message_id, ServerID=0, DebugTimings=timings))
        return self._call(uuid, N.SendMessageReturnFunction, send)

    def _route(self, connection: Connection, to: str, content, message_id: str) -> None:
        """The servers: record what the recipient got; deliver to its linked devices, or let its phone receipt."""
        network = self.network
        network.record_sent(connection.uuid, to, message_id, content, content.SerializeToString())
        sender = connection.device.split(":")[0].split("@")[0] + "@s.whatsapp.net"
        numbers = network.groups.member_phones(to) if to.endswith("@g.us") else [to.split("@")[0]]
        devices = [d for number in numbers for d in network.devices_of(number) if d["jid"] != connection.device]
        for device in devices:  # a group message goes to every participant's devices, the sender's other ones too
            event = builders.message_event(content, builders.MessageSpec(
                chat=to if to.endswith("@g.us") else sender, sender=sender, push_name="Sandbox phone",
                message_id=message_id, from_me=device["phone"] == sender.split("@")[0], edit=edit_attribute(content)))
            network.enqueue(device["jid"], MESSAGE_CODE, message_id, event.SerializeToString(), connection.device)
        if not devices:
            self.receipts.schedule(connection, message_id, to)

    def Upload(self, uuid, data, size, media_type):
        """goneonize `Upload` → UploadReturnFunction (whatsmeow `Client.Upload`: encrypt, POST to mmg)."""
        blob = bytes(data[:size])

        def upload(connection: Connection):
            key = os.urandom(32)
            path = self._on_hub(self.network.put_media, blob)
            plain, encrypted = file_hashes(blob, key)
            return N.UploadReturnFunction(UploadResponse=N.UploadResponse(
                url="https://mmg.whatsapp.net" + path, DirectPath=path, Handle="", MediaKey=key,
                FileEncSHA256=encrypted, FileSHA256=plain, FileLength=len(blob)))
        return self._call(uuid, N.UploadReturnFunction, upload)

    def DownloadAny(self, uuid, message, size):
        """goneonize `DownloadAny` → DownloadReturnFunction; a blob the servers no longer have is a 404."""
        content = E.Message.FromString(bytes(message[:size]))

        def download(connection: Connection):
            media = content_of(content)[3]
            if media is None or not media.directPath:
                return N.DownloadReturnFunction(Error="no url present")
            blob = self._on_hub(self.network.get_media, media.directPath)
            if blob is None:
                return N.DownloadReturnFunction(Error="download failed with status code 404")
            return N.DownloadReturnFunction(Binary=blob)
        return self._call(uuid, N.DownloadReturnFunction, download)

    def GenerateMessageID(self, uuid):
        """goneonize `GenerateMessageID` (whatsmeow's 3EB0… ids)."""
        return builders.new_message_id().encode()

    def PairPhone(self, uuid, payload, size):
        """goneonize `PairPhone`: needs the websocket of an unpaired client (a QR showing)."""
        params = N.PairPhoneParams.FromString(bytes(payload[:size]))
        connection = self.clients.get(uuid.decode())
        if connection is None or not connection.showing_qr:
            return N.PairPhoneReturnFunction(Error=NOT_CONNECTED).SerializeToString()
        digits = f"{abs(hash((connection.uuid, params.phone))) % 10**8:08d}"
        return N.PairPhoneReturnFunction(Code=f"{digits[:4]}-{digits[4:]}").SerializeToString()

    def Logout(self, uuid):
        """goneonize `Logout` (whatsmeow `Client.Logout`): unlink at the servers, disconnect, delete the store."""
        connection = self.clients.get(uuid.decode())
        if connection is None or not connection.connected:
            return NOT_CONNECTED.encode()
        self._on_hub(self.network.unlink, connection.device, connection.store_path)
        self._disconnect(connection)
        return b""

    def MarkRead(self, uuid, ids, timestamp, chat, chat_size, sender, sender_size, receipt_type):
        """goneonize `MarkRead`: read receipts go to the devices that sent those messages."""
        connection = self.clients.get(uuid.decode())
        if connection is None or not connection.connected:
            return NOT_CONNECTED.encode()
        sender_jid = jid_str(N.JID.FromString(bytes(sender[:sender_size]))) or \
            jid_str(N.JID.FromString(bytes(chat[:chat_size])))
        self._on_hub(self._read_receipts, connection, sender_jid, ids.decode().split())
        return b""

    def _read_receipts(self, connection: Connection, sender: str, message_ids: list[str]) -> None:
        for device in self.network.devices_of(sender.split("@")[0]):
            self.network.receipt(device["jid"], connection.device, message_ids, "read")

    def DecryptPollVote(self, uuid, message, size):
        """goneonize `DecryptPollVote` → ReturnFunctionWithError{PollVoteMessage}.

        whatsmeow decrypts `pollUpdateMessage.vote` with the poll's message secret; the simulated
        phones "encrypt" a vote as the serialized PollVoteMessage itself (there is no key exchange
        to simulate), so decrypting is parsing it back.
        """
        event = N.Message.FromString(bytes(message[:size]))
        update = event.Message.pollUpdateMessage
        if not update.HasField("vote"):
            return N.ReturnFunctionWithError(Error="not a poll update message").SerializeToString()
        try:
            vote = E.PollVoteMessage.FromString(update.vote.encPayload)
        except Exception:  # noqa: BLE001 (a protobuf DecodeError): whatsmeow's "failed to decrypt"
            return N.ReturnFunctionWithError(Error="failed to decrypt poll vote: bad payload").SerializeToString()
        return N.ReturnFunctionWithError(PollVoteMessage=vote).SerializeToString()

    # -- the phone side (called by hub.sandbox.phone, on the hub thread) ----------------
    def connection(self, uuid: str) -> Connection | None:
        return self.clients.get(uuid)

    def push(self, connection: Connection, code: int, event) -> None:
        """Deliver an event the servers send to a connection (lifecycle, receipts: not queued)."""
        connection.deliver(code, event.SerializeToString() if hasattr(event, "SerializeToString") else event, None)


def _call_string(callback, uuid_c, text: str) -> None:
    """A `func_string` callback (QR, login status) as Go calls it: two C string addresses."""
    data = ctypes.create_string_buffer(text.encode())
    callback(ctypes.addressof(uuid_c), ctypes.addressof(data))


def _call_event(callback, uuid: bytes, payload: bytes, code: int) -> None:
    """goneonize's `call_c_func_callback_bytes`: uuid, the serialized event's address and size, its number."""
    data = ctypes.create_string_buffer(payload, len(payload))
    callback(uuid, ctypes.addressof(data), len(payload), code)

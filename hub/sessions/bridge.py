"""The bridge between neonize (Go behind ctypes) and the gevent worker.

Every rule here answers a hazard measured on this stack (docs/architecture.md, "The engine
boundary"):

- The Go side keeps its per-client maps without a lock, so the calls that create or stop a
  client (`Neonize`, `Stop`, `StopAll`) are serialised against every other call by a
  readers-writer `Gate` built from *real* locks (gevent's would not block native threads).
- `Neonize` (inside `connect()`) blocks for the session's whole life, and for a device that
  was never linked it may never return at all (goneonize's `FetchMe` ignores `Stop`; a `Stop`
  during the QR phase leaves whatsmeow's QR channel open). So every dial gets a NEW native
  thread (`Dial`); a dial that can no longer end is abandoned and counted, never reused.
- Other blocking calls go through bounded native pools, one per kind (`Pools`: sends,
  downloads, control), each call with a deadline: a stuck call is abandoned (counted) and its
  pool grows by one, so a few stuck downloads never block sends, pairing or logouts.
- Go calls back on native threads. A callback only copies its data and hands it to the gevent
  hub (`Bridge.to_hub`, `loop.run_callback_threadsafe`); there a per-session `Inbox` delivers it,
  in order, from an ordinary greenlet (sinks do database work: never in a hub callback).
- neonize's media helpers run ffmpeg/ffprobe through `subprocess.Popen` and python-magic's lock
  on the calling (native) thread; under `monkey.patch_all()` both are gevent objects that fail
  or deadlock there. `hub.sessions.native_safety` routes those subprocesses to the hub and gives
  python-magic real locks.
"""
from __future__ import annotations

import ctypes
import logging
import subprocess
import time
from collections import Counter, deque
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import gevent
from gevent.monkey import get_original
from gevent.threadpool import ThreadPool

from hub import native
from hub.sessions import native_safety
from hub.sessions.engine import EngineError

log = logging.getLogger(__name__)

_allocate_lock = get_original("_thread", "allocate_lock")
# The longest a starting `Neonize` call keeps other calls out. Its map writes happen before the
# dial and took 2-8 ms here; the dial itself can hang for 60 s, so the gate cannot wait for it.
# The client's first callback (a QR or an event: goneonize registers them after its last map write,
# `clients[uuid] = client`) ends the hold sooner: dials then queue for milliseconds, not 0.25 s each.
START_GRACE = 0.25
POOL_SIZES = {"send": 8, "download": 4, "control": 4}
CALL_DEADLINES = {"send": 120.0, "download": 60.0, "control": 30.0}  # seconds; media sends convert first
# Events a second above which a session's next events wait until the worker has nothing else to do
# (`gevent.idle`): a flooded number takes only the worker's spare time, so another session's event
# is handled as soon as it arrives (README, "Order and fairness"). Below it nothing waits.
BUSY_EVENTS = 20
GO_LOG_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARN": logging.WARNING,
                 "WARNING": logging.WARNING, "ERROR": logging.ERROR}


class Gate:
    """A readers-writer lock of real (OS) locks: many Go calls at once, or one writer alone."""

    def __init__(self):
        self._count_lock = _allocate_lock()
        self._resource = _allocate_lock()
        self._readers = 0
        self.starting: dict[str, WriterHold] = {}  # client uuid -> the hold of its starting Neonize call

    @contextmanager
    def reading(self):
        with self._count_lock:
            self._readers += 1
            if self._readers == 1:
                self._resource.acquire()
        try:
            yield
        finally:
            with self._count_lock:
                self._readers -= 1
                if self._readers == 0:
                    self._resource.release()

    @contextmanager
    def writing(self):
        with self._resource:
            yield

    def hold_for_writer(self) -> WriterHold:
        """Take the writer side now; the returned hold may be released from any thread."""
        self._resource.acquire()
        return WriterHold(self._resource)

    def started(self, uuid: str) -> None:
        """Client `uuid` called back from Go: its start wrote the maps, other calls may pass (any thread)."""
        hold = self.starting.pop(uuid, None)
        if hold is not None:
            hold.release()


class WriterHold:
    """The writer side of a Gate, released exactly once by whoever comes first."""

    def __init__(self, resource):
        self._resource = resource
        self._guard = _allocate_lock()
        self._held = True

    def release(self) -> None:
        with self._guard:
            if self._held:
                self._held = False
                self._resource.release()


class GatedLibrary:
    """Stands in for a library object (neonize's CDLL or the simulator): every call passes the Gate."""

    WRITERS = frozenset({"Stop", "StopAll"})

    def __init__(self, library, gate: Gate, after: callable):
        self._library = library
        self._gate = gate
        self._after = after  # after(seconds, fn): releases a starting call's hold later

    def __getattr__(self, name):
        function = getattr(self._library, name)
        if name == "Neonize":
            gated = partial(self._starting, function)
        elif name in self.WRITERS:
            gated = partial(self._exclusive, function)
        else:
            gated = partial(self._shared, function)
        setattr(self, name, gated)  # later lookups skip __getattr__
        return gated

    def _shared(self, function, *args):
        with self._gate.reading():
            return function(*args)

    def _exclusive(self, function, *args):
        with self._gate.writing():
            return function(*args)

    def _starting(self, function, *args):
        hold = self._gate.hold_for_writer()
        uuid = args[1].decode()  # Neonize(db, id, ...)
        self._gate.starting[uuid] = hold
        self._after(START_GRACE, hold.release)
        try:
            return function(*args)
        finally:
            hold.release()
            if self._gate.starting.get(uuid) is hold:
                del self._gate.starting[uuid]


class InlineThread:
    """Replaces the helper thread neonize's connect() starts: we already are a dedicated thread.

    neonize runs `Neonize` on a helper thread and polls it every 0.2 s so Ctrl+C works in
    scripts. Under gevent that helper would be a greenlet needing a hub in our native thread,
    so the dial thread runs the target itself; connect() then finds it done.
    """

    def __init__(self, target=None, name=None, daemon=None):
        self._target = target

    def start(self) -> None:
        self._target()

    def join(self, timeout=None) -> None:
        return None


class Inbox:
    """One session's ordered mailbox: any thread posts, one greenlet at a time delivers."""

    def __init__(self, bridge: Bridge, session_id: str):
        self.bridge = bridge
        self.session_id = session_id
        self._items: deque = deque()
        self._worker: gevent.Greenlet | None = None
        self._second, self._in_second = 0.0, 0  # when the current one-second window began, events in it

    def post(self, function, *args) -> None:
        """Deliver `function(*args)` later, in posting order, from a greenlet (thread-safe)."""
        self.bridge.to_hub(self._enqueue, function, args)

    def _enqueue(self, function, args) -> None:
        self._items.append((function, args))
        if self._worker is None or self._worker.dead:
            self._worker = gevent.spawn(self._drain)

    def _drain(self) -> None:
        while self._items:
            if self._busy():
                self.bridge.deferred[self.session_id] += 1
                gevent.idle()  # whatsmeow's handler blocks meanwhile: the session's next frames wait at WhatsApp
            function, args = self._items.popleft()
            try:
                function(*args)
            except Exception:  # one session's failure is logged, never propagated
                log.exception("session %s: handling %s failed", self.session_id,
                              getattr(function, "__name__", function), extra={"sessionId": self.session_id})

    def _busy(self) -> bool:
        """Count one event; whether it is past BUSY_EVENTS in the current second."""
        now = time.monotonic()
        if now - self._second >= 1.0:
            self._second, self._in_second = now, 0
        self._in_second += 1
        return self._in_second > BUSY_EVENTS


@dataclass
class SessionSlot:
    """What outlives an engine for one session id: its neonize client (and which library it talks to).

    Reusing the client means Go never calls a ctypes callback whose Python object was collected.
    """

    client: object
    library: object | None


class Pools:
    """Bounded native pools per kind of call, each call with a deadline (see the module docstring)."""

    def __init__(self, sizes: dict[str, int] = POOL_SIZES, deadlines: dict[str, float] = CALL_DEADLINES):
        self.pools = {kind: ThreadPool(size) for kind, size in sizes.items()}
        self.deadlines = dict(deadlines)
        self.abandoned = {kind: 0 for kind in sizes}

    def call(self, kind: str, function, *args, **kwargs):
        """Run `function` in the `kind` pool; EngineError when it outlives its deadline."""
        pool = self.pools[kind]
        result = pool.spawn(function, *args, **kwargs)
        try:
            return result.get(timeout=self.deadlines[kind])
        except gevent.Timeout:
            self.abandoned[kind] += 1
            pool.maxsize += 1  # the stuck thread keeps its slot; the pool keeps its capacity
            name = getattr(function, "__name__", "call")
            raise EngineError(f"{name} did not finish within {self.deadlines[kind]:.0f} s; abandoned") from None

    def threads(self) -> dict[str, int]:
        return {kind: pool.size for kind, pool in self.pools.items()}


class Bridge:
    """Process-wide: the gate, the pools, the hand-off to the hub, the clients."""

    def __init__(self):
        import neonize.client as neonize_client

        self.hub = gevent.get_hub()
        self.gate = Gate()
        self.pools = Pools()
        self.slots: dict[str, SessionSlot] = {}
        self.abandoned_dials = 0
        self.dials = 0
        self.deferred: Counter[str] = Counter()  # session id -> events it handled only when the worker was idle
        self._neonize = neonize_client
        self._install(neonize_client)
        native_safety.install(self.hub)

    def _install(self, neonize_client) -> None:
        # Go reads its minimum log level from this logger at connect() time.
        logging.getLogger("neonize.utils.log").setLevel(logging.WARNING)
        neonize_client.log_whatsmeow = self._forward_go_log
        neonize_client.gocode = self.gated(neonize_client.gocode)
        neonize_client.Thread = InlineThread
        neonize_client.ThreadEvent = get_original("threading", "Event")

    def gated(self, library) -> GatedLibrary:
        return GatedLibrary(library, self.gate, self._later)

    # -- threads -> hub ----------------------------------------------------------------
    def to_hub(self, function, *args) -> None:
        """Run `function(*args)` soon on the hub's thread (callable from any thread)."""
        self.hub.loop.run_callback_threadsafe(function, *args)

    def in_hub(self, function, *args) -> None:
        """Call now when already on the hub's thread, else hand it over."""
        if native.get_ident() == self.hub.thread_ident:
            function(*args)
        else:
            self.to_hub(function, *args)

    def _later(self, seconds: float, function) -> None:
        self.to_hub(gevent.spawn_later, seconds, function)

    def call(self, function, *args, kind: str = "control", **kwargs):
        """Run a blocking neonize call in its native pool; blocks only the calling greenlet.

        A caller that is not on the hub's thread (a plain thread outside the worker) is already
        off the hub: it makes the call itself.
        """
        if native.get_ident() != self.hub.thread_ident:
            return function(*args, **kwargs)
        return self.pools.call(kind, function, *args, **kwargs)

    def dial(self, function, *args) -> None:
        """Run a dial (`Neonize`, blocking for the connection's life) on a new native thread."""
        self.dials += 1
        native.go(function, *args)

    def abandon_dial(self) -> None:
        """A dial thread that can never return (its QR phase ended unpaired): counted, never reused."""
        self.abandoned_dials += 1

    # -- clients -------------------------------------------------------------------------
    def slot(self, session_id: str, store_path: str, library=None) -> SessionSlot:
        """The session's client, created on first use; `library` replaces Go (the simulator)."""
        slot = self.slots.get(session_id)
        if slot is None or slot.library is not library:
            client = self._neonize.NewClient(store_path, uuid=session_id)
            # Its finaliser would call Stop from whatever thread collects it, past the gate.
            client._stop_finalizer.detach()
            if library is not None:
                use_library(client, self.gated(library))
            slot = self.slots[session_id] = SessionSlot(client, library)
        return slot

    def _forward_go_log(self, address: int, size: int) -> None:
        """Go's log callback (native thread): copy the bytes, log them from the hub."""
        if address and size > 0:
            self.to_hub(_log_go_entry, ctypes.string_at(address, size))


def use_library(client, library) -> None:
    """Route every call of a neonize client (and of its contact/chat-settings stores) to `library`."""
    client._NewClient__client = library
    client.contact._ContactStore__client = library
    client.chat_settings._ChatSettingsStore__client = library


def _log_go_entry(data: bytes) -> None:
    from neonize.proto.Neonize_pb2 import LogEntry

    entry = LogEntry.FromString(data)
    level = GO_LOG_LEVELS.get(entry.Level.upper(), logging.INFO)
    logging.getLogger(f"whatsmeow.{entry.Name.replace('/', '.')}").log(level, "%s", entry.Message)


def run_process(command: list[str], data: bytes | None = None) -> subprocess.CompletedProcess:
    """Run a process to completion from any thread (the hub's thread runs it; see hub.sessions.native_safety)."""
    return native_safety.run_on_hub(get().hub, command, data)


_bridge: Bridge | None = None


def get() -> Bridge:
    """The process's bridge, built (and neonize patched) on first use inside the worker."""
    global _bridge
    if _bridge is None:
        _bridge = Bridge()
    return _bridge


def peek() -> Bridge | None:
    """The bridge if one was built (metrics must not load the Go library just to read counters)."""
    return _bridge

"""The bridge between neonize (Go behind ctypes) and the gevent worker.

Every rule here answers a hazard measured in notes/neonize-gevent.md:

- The Go side keeps its per-client maps without a lock, so the calls that create or stop a
  client (`Neonize`, `Stop`, `StopAll`) are serialised against every other call by a
  readers-writer `Gate` built from *real* locks (gevent's would not block native threads).
- `Neonize` (inside `connect()`) blocks for the session's whole life, so each session dials in
  its own native thread (`SessionSlot.dialer`), and other blocking calls go through one bounded
  native pool (`Bridge.call`): a Flask view blocks only its own greenlet, never the hub.
- Go calls back on native threads. A callback only copies its data and hands it to the gevent
  hub (`Bridge.to_hub`, `loop.run_callback_threadsafe`); there a per-session `Inbox` delivers it,
  in order, from an ordinary greenlet (sinks do database work: never in a hub callback).
"""
from __future__ import annotations

import ctypes
import logging
import threading
from collections import deque
from contextlib import contextmanager
from functools import partial

import gevent
from gevent.monkey import get_original
from gevent.threadpool import ThreadPool

log = logging.getLogger(__name__)

_allocate_lock = get_original("_thread", "allocate_lock")
# How long a starting `Neonize` call keeps other calls out. Its map writes happen before the
# dial and took 2-8 ms here; the dial itself can hang for 60 s, so the gate cannot wait for it.
START_GRACE = 0.25
CALL_THREADS = 8  # send / upload / download / pair / logout / stop run here
DIALER_IDLE = 5.0  # seconds an idle per-session dial thread lives before it exits
GO_LOG_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARN": logging.WARNING,
                 "WARNING": logging.WARNING, "ERROR": logging.ERROR}


class Gate:
    """A readers-writer lock of real (OS) locks: many Go calls at once, or one writer alone."""

    def __init__(self):
        self._count_lock = _allocate_lock()
        self._resource = _allocate_lock()
        self._readers = 0

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

    def hold_for_writer(self) -> "WriterHold":
        """Take the writer side now; the returned hold may be released from any thread."""
        self._resource.acquire()
        return WriterHold(self._resource)


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
    """Stands in for neonize's CDLL: every exported function passes through the Gate."""

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
        self._after(START_GRACE, hold.release)
        try:
            return function(*args)
        finally:
            hold.release()


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

    def __init__(self, bridge: "Bridge", session_id: str):
        self.bridge = bridge
        self.session_id = session_id
        self._items: deque = deque()
        self._worker: gevent.Greenlet | None = None

    def post(self, function, *args) -> None:
        """Deliver `function(*args)` later, in posting order, from a greenlet (thread-safe)."""
        self.bridge.to_hub(self._enqueue, function, args)

    def _enqueue(self, function, args) -> None:
        self._items.append((function, args))
        if self._worker is None or self._worker.dead:
            self._worker = gevent.spawn(self._drain)

    def _drain(self) -> None:
        while self._items:
            function, args = self._items.popleft()
            try:
                function(*args)
            except Exception:  # one session's failure is logged, never propagated
                log.exception("session %s: handling %s failed", self.session_id,
                              getattr(function, "__name__", function), extra={"sessionId": self.session_id})


class SessionSlot:
    """What outlives an engine for one session id: its neonize client and its dial thread.

    Reusing them means two dials of the same session can never overlap, and Go never calls a
    ctypes callback whose Python object was collected.
    """

    def __init__(self, client):
        self.client = client
        self.dialer = ThreadPool(1, idle_task_timeout=DIALER_IDLE)


class Bridge:
    """Process-wide: the gate, the call pool, the hand-off to the hub, the clients."""

    def __init__(self):
        import neonize.client as neonize_client

        self.hub = gevent.get_hub()
        self.gate = Gate()
        self.calls = ThreadPool(CALL_THREADS)
        self.slots: dict[str, SessionSlot] = {}
        self._neonize = neonize_client
        self._install(neonize_client)

    def _install(self, neonize_client) -> None:
        # Go reads its minimum log level from this logger at connect() time.
        logging.getLogger("neonize.utils.log").setLevel(logging.WARNING)
        neonize_client.log_whatsmeow = self._forward_go_log
        neonize_client.gocode = GatedLibrary(neonize_client.gocode, self.gate, self._later)
        neonize_client.Thread = InlineThread
        neonize_client.ThreadEvent = get_original("threading", "Event")

    # -- threads -> hub ----------------------------------------------------------------
    def to_hub(self, function, *args) -> None:
        """Run `function(*args)` soon on the hub's thread (callable from any thread)."""
        self.hub.loop.run_callback_threadsafe(function, *args)

    def in_hub(self, function, *args) -> None:
        """Call now when already on the hub's thread, else hand it over."""
        if threading.get_ident() == self.hub.thread_ident:
            function(*args)
        else:
            self.to_hub(function, *args)

    def _later(self, seconds: float, function) -> None:
        self.to_hub(gevent.spawn_later, seconds, function)

    def call(self, function, *args, **kwargs):
        """Run a blocking neonize call in the native pool; blocks only the calling greenlet."""
        return self.calls.spawn(function, *args, **kwargs).get()

    # -- clients -------------------------------------------------------------------------
    def slot(self, session_id: str, store_path: str) -> SessionSlot:
        """The session's client and dial thread, created on first use."""
        slot = self.slots.get(session_id)
        if slot is None:
            client = self._neonize.NewClient(store_path, uuid=session_id)
            # Its finaliser would call Stop from whatever thread collects it, past the gate.
            client._stop_finalizer.detach()
            slot = self.slots[session_id] = SessionSlot(client)
        return slot

    def _forward_go_log(self, address: int, size: int) -> None:
        """Go's log callback (native thread): copy the bytes, log them from the hub."""
        if address and size > 0:
            self.to_hub(_log_go_entry, ctypes.string_at(address, size))


def _log_go_entry(data: bytes) -> None:
    from neonize.proto.Neonize_pb2 import LogEntry

    entry = LogEntry.FromString(data)
    level = GO_LOG_LEVELS.get(entry.Level.upper(), logging.INFO)
    logging.getLogger(f"whatsmeow.{entry.Name.replace('/', '.')}").log(level, "%s", entry.Message)


_bridge: Bridge | None = None


def get() -> Bridge:
    """The process's bridge, built (and neonize patched) on first use inside the worker."""
    global _bridge
    if _bridge is None:
        _bridge = Bridge()
    return _bridge

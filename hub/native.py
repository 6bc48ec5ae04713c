"""Real OS threads and real locks, never gevent's: what the bridge and the simulated Go library run on.

goneonize's goroutines run on OS threads the gevent hub knows nothing about, and its callbacks
arrive on them. The simulator does the same, so the hub's bridge (hand-over to the hub, gate,
native pools) is exercised exactly as in production. Under `monkey.patch_all()` the `threading`
module hands out greenlets and gevent locks, so everything here is built from the original
`_thread` primitives (see docs/architecture.md, "The engine boundary").
"""
from __future__ import annotations

from collections import deque

import gevent
from gevent.monkey import get_original

_allocate_lock = get_original("_thread", "allocate_lock")
_start_new_thread = get_original("_thread", "start_new_thread")
get_ident = get_original("_thread", "get_ident")
FOREVER = -1


def go(function, *args) -> None:
    """Start `function(*args)` on a new OS thread (a goroutine)."""
    _start_new_thread(function, args)


def real_lock():
    """An OS lock: blocks a native thread without needing a gevent hub in it."""
    return _allocate_lock()


class Signal:
    """A one-shot event of real locks (Go's `close(done)`): wait from any thread."""

    def __init__(self):
        self._lock = _allocate_lock()
        self._lock.acquire()
        self._set = False

    def set(self) -> None:
        if not self._set:
            self._set = True
            self._lock.release()

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        """Block this OS thread until set (True) or `timeout` seconds (False)."""
        if self._set:
            return True
        if self._lock.acquire(True, FOREVER if timeout is None else max(timeout, 0)):
            self._lock.release()  # let the next waiter through
        return self._set


class Channel:
    """A bounded FIFO like a buffered Go channel: `put` blocks while full, `get` while empty."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._items: deque = deque()
        self._mutex = _allocate_lock()
        self._changed: list = []  # waiter locks, released on every change

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item, cancelled: Signal | None = None) -> bool:
        """Append `item`, waiting while the channel is full; False if `cancelled` came first."""
        while True:
            with self._mutex:
                if len(self._items) < self.capacity:
                    self._items.append(item)
                    self._wake()
                    return True
                waiter = self._waiter()
            if cancelled is not None and cancelled.is_set():
                return False
            waiter.acquire(True, 0.05)

    def get(self, timeout: float):
        """The oldest item, or None after `timeout` seconds."""
        with self._mutex:
            if self._items:
                item = self._items.popleft()
                self._wake()
                return item
            waiter = self._waiter()
        waiter.acquire(True, timeout)
        with self._mutex:
            if self._items:
                item = self._items.popleft()
                self._wake()
                return item
        return None

    def _waiter(self):
        waiter = _allocate_lock()
        waiter.acquire()
        self._changed.append(waiter)
        return waiter

    def _wake(self) -> None:
        for waiter in self._changed:
            waiter.release()
        self._changed.clear()


def call_on_hub(hub, function, *args):
    """Run `function(*args)` in a greenlet of `hub`'s thread and wait (this OS thread) for its result.

    The simulated servers keep their state in the hub's database; database work belongs to the
    hub's thread (its SQLite connection is shared cooperatively by greenlets, never by threads).
    """
    if get_ident() == hub.thread_ident:
        return function(*args)
    done, box = Signal(), {}

    def run():
        try:
            box["value"] = function(*args)
        except BaseException as exc:  # handed back to the calling thread
            box["error"] = exc
        finally:
            done.set()

    hub.loop.run_callback_threadsafe(gevent.spawn, run)
    done.wait()
    if "error" in box:
        raise box["error"]
    return box.get("value")

"""Group commit: short writes of many requests share one transaction and one commit.

Under load a commit costs more than the small writes of a send (SQLite writes every touched
page of the table and its indexes to the WAL once per commit). The writer takes whatever writes
are waiting, runs them in one transaction and commits once; each caller still returns only after
its write committed, so nothing is acknowledged before it is durable.

A write is a function of `db` (`run`), or an item for a bulk function of `db` and a list of items
(`run_many`): consecutive items for the same bulk function are written together, with
executemany statements. If one write of a batch fails, the batch is rolled back and each write
runs again alone, so one bad write fails only its own caller: writes must therefore do all their
work inside the function (build their rows there) and may run twice.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import TypeVar

from hub.context import HubContext

T = TypeVar("T")
MAX_BATCH = 64  # writes per transaction: bounds how long the one connection is held
_STOP = object()


class _Write:
    """One caller's write (a function of db, or an item for a bulk function) and, later, its outcome."""

    def __init__(self, work: Callable | None, bulk: Callable | None = None, item=None):
        self.work, self.bulk, self.item = work, bulk, item
        self.done = threading.Event()
        self.result = None
        self.error: BaseException | None = None

    def finish(self, result=None, error: BaseException | None = None) -> None:
        self.result, self.error = result, error
        self.done.set()


class GroupCommit:
    """Runs writes in shared transactions once started; before that (and in tests) each runs alone."""

    def __init__(self, store, max_batch: int = MAX_BATCH):
        self.store = store
        self.max_batch = max_batch
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None
        self.batches = self.writes = 0  # /metrics: writes / batches = mean batch size

    def run(self, work: Callable[..., T]) -> T:
        """`work(db)` committed (alone, or with the writes waiting beside it); its result."""
        return self._submit(_Write(work))

    def run_many(self, bulk: Callable[..., list], item):
        """`bulk(db, items)[i]` for this item, written with the neighbouring items for the same `bulk`."""
        return self._submit(_Write(None, bulk, item))

    def _submit(self, write: _Write):
        if self.store.in_transaction():  # part of the caller's transaction: joins it, as store.session() does
            with self.store.session() as db:
                return _results(db, [write])[0]
        with self._lock:
            queued = self._writer is not None
            if queued:
                self._queue.put(write)
        if not queued:
            self._commit([write])
        write.done.wait()
        if write.error is not None:
            raise write.error
        return write.result

    def start(self) -> None:
        """Start the writer (a greenlet under gevent)."""
        with self._lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._loop, name="group-commit", daemon=True)
                self._writer.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop; later writes run alone."""
        with self._lock:
            writer, self._writer = self._writer, None
            if writer is None:
                return
            self._queue.put(_STOP)
        writer.join(timeout)

    def _loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch and batch[-1] is not _STOP:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = batch[-1] is _STOP
            self._commit([write for write in batch if write is not _STOP])
            if stop:
                return

    def _commit(self, batch: list[_Write]) -> None:
        """One transaction for the batch; when it fails, each write again alone."""
        if not batch:
            return
        try:
            with self.store.session() as db:
                results = _results(db, batch)
        except Exception as exc:
            if len(batch) == 1:
                batch[0].finish(error=exc)
            else:
                for write in batch:
                    self._commit([write])
            return
        except BaseException as exc:  # the writer is being killed: release its callers, then go
            for write in batch:
                write.finish(error=exc)
            raise
        self.batches += 1
        self.writes += len(batch)
        for write, result in zip(batch, results, strict=True):
            write.finish(result)


def _results(db, batch: list[_Write]) -> list:
    """Run the batch's writes in order (a run of items for one bulk function in one call); their results."""
    results: list = []
    start = 0
    while start < len(batch):
        write = batch[start]
        if write.bulk is None:
            results.append(write.work(db))
            start += 1
            continue
        end = start + 1
        while end < len(batch) and batch[end].bulk is write.bulk:
            end += 1
        results += write.bulk(db, [each.item for each in batch[start:end]])
        start = end
    return results


def start(context: HubContext, scheduler) -> None:
    """Background module: the store's writer runs for the life of the worker."""
    context.store.writes.start()


def stop(context: HubContext) -> None:
    context.store.writes.stop()

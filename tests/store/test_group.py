"""Group commit: writes waiting together share one transaction; each caller still gets its own outcome."""
import threading
import time

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub.store import Session, Store


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.migrate()
    yield store
    store.writes.stop()
    store.dispose()


def add_session(name):
    def write(db):
        Session(id=name, engine="sandbox").insert_into(db)
        return name
    return write


def stored(store) -> set[str]:
    with store.session() as db:
        return set(db.scalars(select(Session.id)))


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def in_threads(calls) -> list:
    """Run each call in its own thread; their results (or exceptions) in order."""
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            outcomes[index] = call()
        except Exception as exc:  # the test inspects it
            outcomes[index] = exc
    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    return threads, outcomes


def hold_writer(store):
    """Start the writer and keep it busy inside a batch until the returned gate is set."""
    gate, entered = threading.Event(), threading.Event()

    def blocker(db):
        entered.set()
        gate.wait(5)
        return "first"
    store.writes.start()
    threads, outcomes = in_threads([lambda: store.writes.run(blocker)])
    entered.wait(5)
    return gate, threads, outcomes


def test_before_the_writer_starts_each_write_commits_alone(store):
    assert store.writes.run(add_session("a")) == "a"
    assert stored(store) == {"a"}
    assert store.writes.batches == 1


def test_writes_waiting_together_are_committed_in_one_transaction(store):
    gate, first, _ = hold_writer(store)
    threads, outcomes = in_threads([lambda name=f"s{i}": store.writes.run(add_session(name)) for i in range(10)])
    wait_until(lambda: store.writes._queue.qsize() == 10)
    gate.set()
    for thread in first + threads:
        thread.join(5)
    assert outcomes == [f"s{i}" for i in range(10)]
    assert stored(store) == {f"s{i}" for i in range(10)}
    assert (store.writes.batches, store.writes.writes) == (2, 11)  # the blocker's batch, then all ten


def test_a_failing_write_fails_only_its_caller(store):
    store.writes.run(add_session("taken"))
    gate, first, _ = hold_writer(store)
    calls = [lambda: store.writes.run(add_session("ok1")), lambda: store.writes.run(add_session("taken")),
             lambda: store.writes.run(add_session("ok2"))]
    threads, outcomes = in_threads(calls)
    wait_until(lambda: store.writes._queue.qsize() == 3)
    gate.set()
    for thread in first + threads:
        thread.join(5)
    assert outcomes[0] == "ok1" and outcomes[2] == "ok2"
    assert isinstance(outcomes[1], IntegrityError)
    assert stored(store) == {"taken", "ok1", "ok2"}


def test_consecutive_items_for_one_bulk_function_are_written_in_one_call(store):
    calls_seen = []

    def add_sessions(db, names):
        calls_seen.append(list(names))
        for name in names:
            Session(id=name, engine="sandbox").insert_into(db)
        return [name.upper() for name in names]
    gate, first, _ = hold_writer(store)
    threads, outcomes = in_threads([lambda name=f"b{i}": store.writes.run_many(add_sessions, name) for i in range(5)])
    wait_until(lambda: store.writes._queue.qsize() == 5)
    gate.set()
    for thread in first + threads:
        thread.join(5)
    assert outcomes == [f"B{i}" for i in range(5)]  # each caller gets its own item's result
    assert len(calls_seen) == 1 and sorted(calls_seen[0]) == [f"b{i}" for i in range(5)]


def test_stop_commits_what_is_queued_and_later_writes_still_work(store):
    gate, first, _ = hold_writer(store)
    threads, outcomes = in_threads([lambda: store.writes.run(add_session("queued"))])
    wait_until(lambda: store.writes._queue.qsize() == 1)
    stopper = threading.Thread(target=store.writes.stop)
    stopper.start()
    gate.set()
    for thread in [*first, *threads, stopper]:
        thread.join(5)
    assert outcomes == ["queued"]
    assert store.writes.run(add_session("after")) == "after"
    assert stored(store) == {"queued", "after"}


def test_a_write_inside_a_transaction_joins_it(store):
    store.writes.start()
    with pytest.raises(RuntimeError), store.session():
        store.writes.run(add_session("inner"))
        raise RuntimeError("the outer transaction fails")
    assert stored(store) == set()  # rolled back with the outer transaction

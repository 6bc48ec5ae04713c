"""hub.cluster.notify against a real, stoppable PostgreSQL: delivery on commit, outages, stop, gevent."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import text

from hub.backoff import Backoff
from hub.cluster.notify import Listener, notify
from hub.store import Store
from tests.cluster.pg import pg  # noqa: F401  (module fixture: one PostgreSQL for this file)

FAST = Backoff(base=0.1, cap=0.5, jitter=0)


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def database(pg):  # noqa: F811
    return pg.new_database()


@pytest.fixture
def store(database):
    store = Store(database)
    yield store
    store.dispose()


@pytest.fixture
def listener(database):
    listener = Listener(database, backoff=FAST)
    yield listener
    listener.stop()


def listening(listener: Listener, channel: str, received: list, **options) -> None:
    listener.subscribe(channel, received.append, **options)
    listener.start()
    wait_until(lambda: listener.is_listening(channel))


def announce(store: Store, channel: str, payload: str) -> None:
    with store.session() as db:
        notify(db, channel, payload)


def test_a_notification_arrives_only_when_its_transaction_commits_and_never_after_a_rollback(store, listener):
    received: list[str] = []
    listening(listener, "hub_test", received)
    with store.session() as db:  # still open while a later transaction commits
        notify(db, "hub_test", "first")
        with pytest.raises(RuntimeError), store.factory() as other, other.begin():
            notify(other, "hub_test", "rolled back")
            raise RuntimeError("abort")
        announce_elsewhere = store.factory()
        with announce_elsewhere, announce_elsewhere.begin():
            notify(announce_elsewhere, "hub_test", "second")
        wait_until(lambda: "second" in received)
        assert received == ["second"]  # "first" waits for its commit; the rolled-back one never comes
    wait_until(lambda: "first" in received)
    assert received == ["second", "first"]


def test_only_the_subscribers_of_a_channel_are_called_and_a_failing_one_stops_nobody(store, listener):
    orders, others = [], []
    listener.subscribe("hub_orders", lambda payload: 1 / 0)
    listening(listener, "hub_orders", orders)
    listening(listener, "hub_other", others)
    announce(store, "hub_orders", "a")
    announce(store, "hub_orders", "b")
    wait_until(lambda: orders == ["a", "b"])
    assert others == []


def test_a_payload_of_8000_bytes_or_a_channel_that_is_no_identifier_is_refused(store, listener):
    with store.session() as db, pytest.raises(ValueError, match="8000 bytes"):
        notify(db, "hub_test", "é" * 4000)
    with pytest.raises(ValueError, match="identifier"):
        listener.subscribe("hub; DROP TABLE events", print)


def test_after_a_database_outage_the_listener_listens_again_and_says_notifications_were_missed(pg, store,  # noqa: F811
                                                                                               listener):
    received, missed = [], []
    listening(listener, "hub_test", received, on_missed=lambda: missed.append(time.monotonic()))
    announce(store, "hub_test", "before")
    wait_until(lambda: received == ["before"])
    assert missed == []
    pg.stop()
    wait_until(lambda: not listener.is_listening("hub_test"))
    pg.start()
    wait_until(lambda: missed and listener.is_listening("hub_test"), timeout=20)
    store.engine.dispose()  # the pool's connections died with the server
    announce(store, "hub_test", "after")
    wait_until(lambda: received == ["before", "after"])
    assert len(missed) == 1


def test_stop_ends_the_loop_and_closes_its_connection_within_a_second(store, listener):
    listening(listener, "hub_test", [])
    began = time.monotonic()
    listener.stop()
    assert time.monotonic() - began < 1.0
    with store.session() as db:
        open_listeners = db.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'"))
    assert open_listeners == 0


def test_on_sqlite_notify_does_nothing_and_the_listener_starts_nothing(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    with store.session() as db:
        notify(db, "hub_test", "ignored")
    listener = Listener(store.engine.url.render_as_string())
    listener.start()
    assert listener._thread is None
    store.dispose()


def test_waiting_for_notifications_lets_the_other_greenlets_of_a_patched_process_run(database):
    """In the gevent worker the listener is a greenlet: psycopg must wait cooperatively, not block the hub."""
    script = textwrap.dedent(f"""
        from gevent import monkey
        monkey.patch_all()
        import gevent, time
        from hub.cluster.notify import Listener
        listener = Listener({database!r})
        listener.subscribe("hub_test", print)
        listener.start()
        ticks = []
        def tick():
            while True:
                ticks.append(time.monotonic())
                gevent.sleep(0.01)
        gevent.spawn(tick)
        gevent.sleep(1.5)
        print("listening", listener.is_listening("hub_test"), "ticks", len(ticks))
        listener.stop()
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert result.returncode == 0, result.stderr
    words = result.stdout.split()
    assert words[words.index("listening") + 1] == "True"
    assert int(words[words.index("ticks") + 1]) > 75  # ~150 when nothing blocks; a blocking wait allows ~3

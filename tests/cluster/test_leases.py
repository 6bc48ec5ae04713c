"""Lease statements and membership on a real database (SQLite file; PostgreSQL in test_cluster_pg.py)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from hub.cluster import leases
from hub.cluster.coordinator import DuplicateNode, join
from hub.cluster.node import Node
from hub.store import Session, Store, utcnow

TTL = 15.0


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.migrate()
    with store.session() as db:
        for sid in ("shop", "clinic"):
            db.add(Session(id=sid, engine="sandbox", status="connected"))
    yield store
    store.dispose()


def test_only_one_process_acquires_a_free_lease_and_the_epoch_grows_with_each_holder(store):
    now = utcnow()
    with store.session() as db:
        assert leases.acquire(db, "shop", "a", now, TTL) == 1
        assert leases.acquire(db, "shop", "b", now, TTL) is None
    later = now + timedelta(seconds=TTL + 1)
    with store.session() as db:
        assert leases.renew(db, "a", ["shop"], later, TTL) == {}  # expired: a holds nothing any more
        assert leases.acquire(db, "shop", "b", later, TTL) == 2
        assert not leases.holds(db, "shop", "a", 1, later)
        assert leases.holds(db, "shop", "b", 2, later)


def test_a_fenced_status_write_of_a_process_that_lost_the_lease_is_refused(store):
    node = Node("a", clustered=True, lease_ttl=TTL)
    with store.session() as db:
        assert node.claim(db, "shop") and node.fence(db, "shop")
    with store.session() as db:  # b takes it after a's lease expired
        leases.release(db, "a", ["shop"], utcnow())
        assert leases.acquire(db, "shop", "b", utcnow(), TTL) == 2
    with store.session() as db:
        assert not node.fence(db, "shop")


def test_renew_extends_held_leases_and_release_frees_them_at_once(store):
    now = utcnow()
    with store.session() as db:
        leases.acquire(db, "shop", "a", now, TTL)
        leases.acquire(db, "clinic", "a", now, TTL)
        assert leases.renew(db, "a", ["shop", "clinic"], now + timedelta(seconds=5), TTL) == {"shop": 1, "clinic": 1}
        assert leases.renew(db, "a", ["shop"], now + timedelta(seconds=5), TTL) == {"shop": 1}  # clinic: handed over
        leases.release(db, "a", ["clinic"], now + timedelta(seconds=6))
        assert leases.acquire(db, "clinic", "b", now + timedelta(seconds=6), TTL) == 2


def test_a_second_live_process_with_the_same_node_id_refuses_to_start(store):
    first = Node("hub-1", clustered=True, lease_ttl=TTL)
    with store.session() as db:
        join(db, first)
    twin = Node("hub-1", clustered=True, lease_ttl=TTL)
    twin.pid = first.pid + 1
    with pytest.raises(DuplicateNode, match="HUB_NODE_ID='hub-1' is in use"), store.session() as db:
        join(db, twin)


def test_a_node_id_of_a_dead_process_can_be_reused(store):
    old = Node("hub-1", clustered=True, lease_ttl=TTL)
    with store.session() as db:
        join(db, old)
        leases.heartbeat(db, "hub-1", utcnow() - timedelta(seconds=TTL + 1))  # stopped heartbeating
    new = Node("hub-1", clustered=True, lease_ttl=TTL)
    new.pid = old.pid + 1
    with store.session() as db:
        join(db, new)
        assert leases.live_nodes(db, utcnow(), TTL) == ["hub-1"]

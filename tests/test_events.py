"""The event log: one envelope, increasing seq, hooks inside the transaction, publish after commit."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hub.store import Event


def test_record_returns_envelope_with_stable_id_and_increasing_seq(hub):
    first = hub.events.record("session-status", "shop", {"status": "qr", "previous": "starting"})
    second = hub.events.record("qr", "shop", {"qr": "2@x"}, sandbox=True)
    assert set(first) == {"id", "seq", "type", "sessionId", "timestamp", "sandbox", "data"}
    assert first["id"].startswith("evt_") and first["id"] != second["id"]
    assert second["seq"] > first["seq"]
    assert first["timestamp"].endswith("Z") and second["sandbox"] is True


def test_hook_failure_rolls_back_the_event(hub):
    def failing_hook(db, event):
        raise RuntimeError("fan-out failed")

    hub.events.add_hook(failing_hook)
    with pytest.raises(RuntimeError):
        hub.events.record("qr", "shop", {"qr": "2@x"})
    with hub.store.session() as db:
        assert db.scalar(select(func.count()).select_from(Event)) == 0


def test_subscribers_get_envelopes_after_commit(hub):
    subscription = hub.bus.subscribe(lambda env: env["sessionId"] == "a")
    hub.events.record("qr", "b", {"qr": "2@b"})
    envelope = hub.events.record("qr", "a", {"qr": "2@a"})
    assert subscription.get(timeout=1) == envelope
    assert subscription.get(timeout=0.01) is None
    subscription.close()


def test_slow_subscriber_loses_oldest_not_blocking_publisher(hub):
    subscription = hub.bus.subscribe(maxsize=2)
    for n in range(5):
        hub.events.record("qr", "a", {"qr": str(n)})
    assert [subscription.get(0.1)["data"]["qr"] for _ in range(2)] == ["3", "4"]


def test_list_filters_newest_first_or_oldest_first_after_a_seq(hub):
    first = hub.events.record("qr", "a", {"qr": "2@a"})
    hub.events.record("qr", "b", {"qr": "2@b"})
    third = hub.events.record("session-status", "a", {"status": "connected", "previous": "qr"})
    assert [e["id"] for e in hub.events.list(session_id="a")] == [third["id"], first["id"]]
    assert [e["id"] for e in hub.events.list(session_id="a", type="qr")] == [first["id"]]
    assert [e["sessionId"] for e in hub.events.list(after_seq=first["seq"])] == ["b", "a"]
    assert len(hub.events.list(limit=1)) == 1


def test_nuls_are_stripped_from_event_data_before_it_is_stored_or_published(hub):
    published = []
    hub.bus.add_callback(published.append)
    envelope = hub.events.record("message-received", "shop", {"text": "ho\x00la", "media": {"names": ["a\x00"]}})
    [stored] = hub.events.list(limit=10)
    assert envelope["data"] == {"text": "hola", "media": {"names": ["a"]}} == published[0]["data"] == stored["data"]

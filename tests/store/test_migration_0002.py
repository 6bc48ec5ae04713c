"""Revision 0002 (fair delivery) on a database at 0001 with pending deliveries in it: nothing lost, all claimable."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from hub.delivery import outbox
from hub.store import Store, migrate, utcnow

AT = datetime(2026, 11, 29, 10, 0, 0)
ROWS = [  # (event seq, id, type, session) -- one without a session, as the model allows
    (1, "evt_1", "message-received", "A"), (2, "evt_2", "session-status", "A"),
    (3, "evt_3", "message-received", "B"), (4, "evt_4", "message-received", None)]


def at_0001_with_pending_deliveries(url: str) -> None:
    """A database at the baseline revision, as the previous release left it, with four waiting deliveries."""
    engine = create_engine(url)
    with engine.connect() as connection:
        command.upgrade(migrate.alembic_config(connection), "0001")
        connection.commit()
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO endpoints (id, kind, url, session_id, session_key, events, headers, secret, enabled, "
            "consecutive_failures, created_at, updated_at) VALUES ('ep_1', 'listener', 'http://127.0.0.1:9/h', "
            "NULL, '', '[\"all\"]', '{}', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', true, 0, :at, :at)"), {"at": AT})
        for seq, event_id, event_type, session_id in ROWS:
            connection.execute(text("INSERT INTO events (seq, id, type, session_id, timestamp, sandbox, data) "
                                    "VALUES (:seq, :id, :type, :session, :at, false, '{}')"),
                               {"seq": seq, "id": event_id, "type": event_type, "session": session_id, "at": AT})
            connection.execute(text(
                "INSERT INTO deliveries (id, event_id, endpoint_id, event_type, session_id, url, status, attempts, "
                "next_attempt_at, created_at) VALUES (:id, :event, 'ep_1', :type, :session, 'http://127.0.0.1:9/h', "
                "'pending', 0, :at, :at)"),
                {"id": f"dlv_{seq}", "event": event_id, "type": event_type, "session": session_id, "at": AT})
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    return request.getfixturevalue("pg_url") if request.param == "postgresql" else f"sqlite:///{tmp_path / 'hub.db'}"


def test_upgrade_fills_in_seq_lane_and_session_and_every_waiting_delivery_is_claimed(url):
    at_0001_with_pending_deliveries(url)
    store = Store(url)
    try:
        store.migrate()
        assert migrate.current_revision(store.engine) == migrate.head_revision()
        with store.session() as db:
            rows = db.execute(text("SELECT id, seq, lane, session_id FROM deliveries ORDER BY seq")).all()
            assert [tuple(row) for row in rows] == [("dlv_1", 1, 1, "A"), ("dlv_2", 2, 0, "A"), ("dlv_3", 3, 1, "B"),
                                                    ("dlv_4", 4, 1, "")]
            assert db.execute(text("SELECT ordered FROM endpoints")).scalar() in (False, 0)
            jobs = outbox.claim(db, 10, 4, outbox.InFlight(), utcnow(), timedelta(seconds=60))
        # All four (the per-endpoint cap), session-status first: nothing waiting was stranded by the upgrade.
        assert jobs[0].delivery_id == "dlv_2" and sorted(job.delivery_id for job in jobs) == [
            "dlv_1", "dlv_2", "dlv_3", "dlv_4"]
    finally:
        store.dispose()

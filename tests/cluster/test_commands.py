"""The command table's state changes and the router's codec (hub/store/commands.py, hub/cluster/commands.py).

The cross-process behaviour is in test_routing_pg.py (two real hub processes on PostgreSQL).
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hub.cluster.commands import decode, encode, error_answer, result_of
from hub.errors import Conflict
from hub.sessions.groups import GroupChanges
from hub.store import Outbound
from hub.store.commands import ClusterCommand, CommandStatus
from hub.store.models import utcnow


@pytest.fixture
def command(hub):
    """A pending command for session 'shop', due in ten seconds: its id."""
    hub.sessions.create("shop", engine="sandbox")
    now = utcnow()
    with hub.store.session() as db:
        db.add(ClusterCommand(id="cmd_1", session_id="shop", kind="k", arguments={}, status=CommandStatus.PENDING,
                              caller="node0", created_at=now, deadline=now + timedelta(seconds=10)))
    return "cmd_1"


def test_a_command_is_claimed_once_and_a_claimed_one_cannot_be_cancelled(hub, command):
    with hub.store.session() as db:
        assert ClusterCommand.claim(db, command, "node1", utcnow())
        assert not ClusterCommand.claim(db, command, "node2", utcnow())
        assert not ClusterCommand.cancel(db, command)
        assert db.get(ClusterCommand, command).runner == "node1"


def test_a_cancelled_or_expired_command_is_never_claimed(hub, command):
    with hub.store.session() as db:
        assert not ClusterCommand.claim(db, command, "node1", utcnow() + timedelta(seconds=11))  # past its deadline
        assert ClusterCommand.pending_for(db, ["shop"], utcnow()) == [command]
        assert ClusterCommand.cancel(db, command)
        assert not ClusterCommand.claim(db, command, "node1", utcnow())
        assert ClusterCommand.pending_for(db, ["shop"], utcnow()) == []


def test_purge_deletes_only_commands_past_their_deadline(hub, command):
    with hub.store.session() as db:
        assert ClusterCommand.purge(db, utcnow()) == 0
        assert ClusterCommand.purge(db, utcnow() + timedelta(seconds=11)) == 1
        assert db.scalar(select(func.count()).select_from(ClusterCommand)) == 0


def test_arguments_and_errors_survive_the_trip_through_the_table():
    arguments = encode(["120363@g.us", GroupChanges(subject="Shop", locked=True), {"ids": ("a", "b")}])
    assert decode(arguments) == ["120363@g.us", GroupChanges(subject="Shop", locked=True), {"ids": ["a", "b"]}]
    answer = error_answer(Conflict("No QR to scan.", code="no_qr", sessionStatus="connected"))
    with pytest.raises(Conflict) as raised:  # the kind callers catch (compat's /api/qr catches Conflict)
        result_of(answer)
    assert (raised.value.status, raised.value.code, raised.value.message, raised.value.extra) == (
        409, "no_qr", "No QR to scan.", {"sessionStatus": "connected"})
    assert result_of({"result": {"qr": "2@abc"}}) == {"qr": "2@abc"}


def test_on_sqlite_calls_run_in_the_process_and_write_no_command(hub, client, sandbox_session):
    assert hub.sessions.router is None
    assert client.post(f"/api/sessions/{sandbox_session}/stop").status_code == 200
    with hub.store.session() as db:
        assert db.scalar(select(func.count()).select_from(ClusterCommand)) == 0


def test_two_processes_reading_the_same_queued_send_claim_it_once(hub, client, sandbox_session):
    queued = client.post("/api/whatsapp/send", json={"sessionId": sandbox_session, "to": "51911122233",
                                                     "message": "once", "async": True})
    assert queued.status_code == 202
    with hub.store.session() as db:  # both read the head while it was queued (two processes' queue workers)
        first, second = (db.scalar(select(Outbound).where(Outbound.id == queued.json["id"])) for _ in range(2))
        db.expunge_all()
    with hub.store.session() as db:
        assert first.take(db)
        assert not second.take(db)
    assert client.get(f"/api/outbound/{queued.json['id']}").json["outbound"]["status"] == "sending"

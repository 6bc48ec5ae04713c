"""A session's send limits against its history: new contacts, the rolling daily cap, the drain estimate."""
from __future__ import annotations

from datetime import timedelta

from hub.outbound.limits import DAY, daily_wait, is_new_contact, queue_estimate
from hub.store import Message, Outbound, utcnow
from hub.store.messages import OutboundStatus


def sent_rows(session_id: str, ages_in_hours: list[float]) -> list[Outbound]:
    rows = []
    for hours in ages_in_hours:  # oldest first, as the queue sends them
        row = Outbound(id=f"out_{len(rows)}_{hours}", session_id=session_id, to="51900000000@s.whatsapp.net",
                       type="text", text="x", status=OutboundStatus.SENT)
        row.sent_at = utcnow() - timedelta(hours=hours)
        rows.append(row)
    return rows


def test_a_number_is_new_until_the_session_talked_to_it_either_way(hub):
    with hub.store.session() as db:
        db.add(Message.from_event("shop", {"chatId": "51911111111@s.whatsapp.net", "messageId": "A1", "text": "hola"}))
    with hub.store.session() as db:
        assert not is_new_contact(db, "shop", "51911111111@s.whatsapp.net")
        assert is_new_contact(db, "shop", "51922222222@s.whatsapp.net")
        assert is_new_contact(db, "other", "51911111111@s.whatsapp.net")  # per session
        assert not is_new_contact(db, "shop", "120363000000000000@g.us")  # a group is not a contact


def test_the_daily_cap_is_a_rolling_24_hours_of_sent_messages(hub):
    with hub.store.session() as db:
        db.add_all(sent_rows("shop", [30, 20, 5, 1]))  # three within the last 24 hours
    with hub.store.session() as db:
        assert daily_wait(db, "shop", None) == 0 and daily_wait(db, "shop", 4) == 0
        wait = daily_wait(db, "shop", 3)  # room again once the one sent 20 hours ago is 24 hours old
        assert abs(wait - 4 * 3600) < 5
        assert daily_wait(db, "shop", 2) > 18 * 3600


def test_the_estimate_counts_the_waiting_messages_at_the_sessions_pace(client, hub):
    client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox"})
    client.patch("/api/sessions/shop", json={"settings": {"sendRate": 20, "dailyLimit": 4}})
    answers = [client.post("/api/whatsapp/send", json={"sessionId": "shop", "to": "51911111111", "message": str(n)})
               for n in range(6)]
    assert {answer.status_code for answer in answers} == {202}
    assert answers[2].get_json()["queue"] == {**answers[2].get_json()["queue"], "waiting": 3, "drainSeconds": 6.0}
    estimate = queue_estimate(hub, "shop")
    assert estimate["waiting"] == 6 and estimate["drainSeconds"] == DAY  # two of them wait for tomorrow's room
    assert client.get("/api/sessions/shop").get_json()["session"]["queue"]["waiting"] == 6


def test_sessions_without_limits_answer_as_before(client):
    client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox"})
    answer = client.post("/api/whatsapp/send", json={"sessionId": "shop", "to": "51911111111", "message": "x"})
    assert answer.status_code == 202 and "queue" not in answer.get_json()

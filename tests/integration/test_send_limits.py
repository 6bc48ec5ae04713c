"""Per-session send limits under real gunicorn: sends beyond a limit are queued (202, with the drain estimate),
not refused, and drained at the allowed pace, in order; the new-contact limit paces only first messages."""
from __future__ import annotations

import time
from datetime import datetime

from tests.integration.hubproc import HubProcess
from tests.integration.test_send_queue import connected_session


def send(hub: HubProcess, to: str, text: str):
    return hub.post("/api/whatsapp/send", json={"sessionId": "s", "to": to, "message": text})


def sent_at(hub: HubProcess, outbound_id: str) -> datetime | None:
    outbound = hub.get(f"/api/outbound/{outbound_id}").json()["outbound"]
    return datetime.fromisoformat(outbound["sentAt"]) if outbound["status"] == "sent" else None


def set_limits(hub: HubProcess, **settings) -> None:
    assert hub.request("PATCH", "/api/sessions/s", json={"settings": settings}).status_code == 200


def test_send_rate_60_per_minute_drains_30_queued_messages_at_1_per_second_in_order(tmp_path):
    with HubProcess(tmp_path) as hub:
        connected_session(hub)
        set_limits(hub, sendRate=60)
        hub.post("/api/sessions/s/stop")
        answers = [send(hub, "+51 987 654 321", f"factura {n}") for n in range(30)]
        assert {answer.status_code for answer in answers} == {202}
        assert [answer.json()["queue"]["waiting"] for answer in answers] == list(range(1, 31))
        assert answers[-1].json()["queue"]["drainSeconds"] == 29.0  # 29 gaps of one second once connected
        view = hub.get("/api/sessions/s").json()["session"]
        assert view["queue"]["waiting"] == 30 and view["queue"]["drainSeconds"] == 29.0
        hub.post("/api/sessions/s/connect")
        hub.wait_for(lambda: len(hub.sandbox_sent("s")) == 30, timeout=60, interval=0.5)
        assert [message["text"] for message in hub.sandbox_sent("s")] == [f"factura {n}" for n in range(30)]
        times = [sent_at(hub, answer.json()["id"]) for answer in answers]
        gaps = [(later - earlier).total_seconds() for earlier, later in zip(times, times[1:], strict=False)]
        # Each send starts a second after the previous one started; sentAt is stamped once WhatsApp answered,
        # so a stamp may lag its start by that answer's time (longer for the first send after connecting,
        # and on a loaded machine). Never faster than the rate: any k sends span at least k-1 seconds, less
        # that lag; and not much slower either.
        lag = 0.3
        assert all((times[j] - times[i]).total_seconds() >= (j - i) - lag
                   for i in range(30) for j in range(i + 1, 30)), gaps
        assert 29 - lag <= (times[-1] - times[0]).total_seconds() <= 29 + 4, gaps
        assert 'hub_sends_paced_total{session="s"}' in hub.get("/metrics").text
        assert hub.get("/api/sessions/s").json()["session"]["queue"]["waiting"] == 0


def test_the_new_contact_rate_paces_only_first_messages_to_numbers_never_talked_to(tmp_path):
    with HubProcess(tmp_path) as hub:
        connected_session(hub)
        known = "51911111111"
        inbound = hub.post("/api/sandbox/s/inbound", json={"from": known, "text": "hola"})
        assert inbound.status_code == 200
        set_limits(hub, newContactRate=720)  # one first message every 5 seconds
        first_new = send(hub, "51922222222", "bienvenido")
        known_answers = [send(hub, known, f"respuesta {n}") for n in range(3)]
        again = send(hub, "51922222222", "segundo mensaje")  # talked to now: no longer new
        second_new = send(hub, "51933333333", "bienvenido 2")
        assert [answer.status_code for answer in [first_new, *known_answers, again]] == [200] * 5
        assert second_new.status_code == 202
        assert 4 <= second_new.json()["queue"]["drainSeconds"] <= 5
        began = time.monotonic()
        hub.wait_for(lambda: sent_at(hub, second_new.json()["id"]), timeout=15, interval=0.2)
        waited = (sent_at(hub, second_new.json()["id"]) - sent_at(hub, first_new.json()["id"])).total_seconds()
        # The pace spaces the two sends' slots 5 s apart; sent_at is stamped when each send returns, so the
        # first one's stamp can lag its slot by a few hundred ms (without the limit the gap would be ~0 s).
        assert 4.5 <= waited <= 5 + 3, waited
        assert time.monotonic() - began < 10

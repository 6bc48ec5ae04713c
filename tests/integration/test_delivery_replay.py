"""Replay on the real hub: one delivery, then an endpoint's dead deliveries in bulk."""
from datetime import UTC, datetime, timedelta

from tests.delivery.live import connected_session, deliveries, inbound, listen, texts
from tests.integration.hubproc import HubProcess
from tests.receivers import Receiver

OUTAGE = {"HUB_RETRY_SCHEDULE": "0.5s", "HUB_WEBHOOK_TIMEOUT": "3"}


def test_replay_single_and_bulk(tmp_path):
    down = {"on": True}
    behaviour = lambda n, req: (500, {}, b"down") if down["on"] else (200, {}, b"ok")  # noqa: E731
    with Receiver(behaviour) as receiver, HubProcess(tmp_path, **OUTAGE) as hub:
        connected_session(hub)
        listener = listen(hub, receiver.url, events=["message-received"])
        since = datetime.now(UTC) - timedelta(seconds=1)
        for n in range(4):
            inbound(hub, f"m{n}")
        dead = hub.wait_for(lambda: (lambda ds: len(ds) == 4 and ds)(deliveries(hub, status="dead")), timeout=10)
        down["on"] = False

        single = hub.post(f"/api/deliveries/{dead[0]['id']}/replay").json()["delivery"]
        assert single["status"] == "pending"
        hub.wait_for(lambda: [d["id"] for d in deliveries(hub, status="delivered")] == [dead[0]["id"]])
        until = datetime.now(UTC) + timedelta(seconds=1)
        body = {"endpointId": listener["id"], "status": "dead", "since": since.isoformat(), "until": until.isoformat()}
        assert hub.post("/api/deliveries/replay", json=body).json()["count"] == 3
        hub.wait_for(lambda: len(deliveries(hub, status="delivered")) == 4)
        assert sorted(set(texts(receiver))) == ["m0", "m1", "m2", "m3"]
        detail = hub.get(f"/api/deliveries/{dead[0]['id']}").json()["delivery"]
        assert [a["statusCode"] for a in detail["attemptLog"]] == [500, 500, 200]

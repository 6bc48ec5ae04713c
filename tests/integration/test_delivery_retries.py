"""Retries on the real hub: a receiver failing then recovering, a 410 that disables its endpoint."""
from tests.delivery.live import FAST_RETRIES, connected_session, deliveries, inbound, listen, texts
from tests.integration.hubproc import HubProcess
from tests.receivers import Receiver


def test_failing_receiver_gets_it_after_recovery_and_410_disables(tmp_path):
    flaky = Receiver(lambda n, req: (503, {}, b"maintenance") if n <= 2 else (204, {}, b""))
    gone = Receiver(lambda n, req: (410, {}, b"unsubscribed"))
    with flaky, gone, HubProcess(tmp_path, **FAST_RETRIES) as hub:
        connected_session(hub)
        flaky_listener = listen(hub, flaky.url, events=["message-received"])
        gone_listener = listen(hub, gone.url, events=["message-received"])
        inbound(hub, "hola")
        [done] = hub.wait_for(lambda: [d for d in deliveries(hub, endpointId=flaky_listener["id"])
                                       if d["status"] == "delivered"], timeout=10)
        assert done["attempts"] == 3 and texts(flaky) == ["hola"] * 3
        assert len({r["headers"]["webhook-id"] for r in flaky.requests}) == 1
        log = hub.get(f"/api/deliveries/{done['id']}").json()["delivery"]["attemptLog"]
        assert [a["statusCode"] for a in log] == [503, 503, 204]
        assert log[0]["response"] == "maintenance" and log[0]["latencyMs"] >= 0

        listeners = hub.get("/api/whatsapp/listeners").json()["listeners"]
        [listener] = [item for item in listeners if item["id"] == gone_listener["id"]]
        assert listener["enabled"] is False and "410" in listener["disabledReason"]
        inbound(hub, "after 410")
        hub.wait_for(lambda: len(texts(flaky)) == 4)
        assert texts(gone) == ["hola"]
        assert [d["status"] for d in deliveries(hub, endpointId=gone_listener["id"])] == ["dead"]

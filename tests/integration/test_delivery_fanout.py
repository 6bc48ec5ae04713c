"""Real hub (gunicorn + gevent) fanning sandbox messages out to real loopback receivers."""
import threading
import time

from standardwebhooks import Webhook

from tests.delivery.live import FAST_RETRIES, connected_session, deliveries, inbound, listen, texts
from tests.integration.hubproc import HubProcess
from tests.receivers import Receiver


def test_fan_out_with_filters_and_verified_signatures(tmp_path):
    with Receiver() as bot, Receiver() as crm, Receiver() as audit, HubProcess(tmp_path, **FAST_RETRIES) as hub:
        connected_session(hub)
        bot_listener = listen(hub, bot.url, events=["message-received"])
        crm_hook = hub.post("/api/shop/webhook", json={"url": crm.url, "events": ["message-received", "message-read"],
                                                       "headers": {"X-CRM-Token": "t0k"}}).json()["webhook"]
        listen(hub, audit.url, events=["session-status"])
        for n in range(5):
            inbound(hub, f"msg {n}")
        hub.post("/api/sessions/shop/stop")
        hub.wait_for(lambda: len(texts(bot)) == 5 and len(texts(crm)) == 5 and audit.requests)
        assert sorted(texts(bot)) == [f"msg {n}" for n in range(5)]
        assert {e["type"] for e in audit.events()} == {"session-status"}
        for receiver, secret in ((bot, bot_listener["secret"]), (crm, crm_hook["secret"])):
            for request in receiver.requests:  # every delivery verifies with the PyPI package
                assert Webhook(secret).verify(request["body"], request["headers"])["sessionId"] == "shop"
                assert "integration-key" not in str(request["headers"])
        assert all(r["headers"]["x-crm-token"] == "t0k" for r in crm.requests)
        hub.wait_for(lambda: {d["status"] for d in deliveries(hub)} == {"delivered"})


def test_hanging_endpoint_does_not_slow_the_others(tmp_path):
    release = threading.Event()
    hang = Receiver(lambda n, req: (release.wait(10), (200, {}, b""))[1])
    with hang, Receiver() as healthy, HubProcess(tmp_path, **FAST_RETRIES) as hub:
        connected_session(hub)
        listen(hub, hang.url, events=["message-received"])
        listen(hub, healthy.url, events=["message-received"])
        started = time.monotonic()
        for n in range(30):
            inbound(hub, f"m{n}")
        hub.wait_for(lambda: len(healthy.requests) == 30, timeout=5)
        elapsed = time.monotonic() - started
        assert elapsed < 3, elapsed
        latencies = [r["at"] for r in healthy.requests]
        assert max(latencies) - min(latencies) < 3
        assert len(hang.requests) <= 4  # per-endpoint cap: the rest wait their turn
        release.set()

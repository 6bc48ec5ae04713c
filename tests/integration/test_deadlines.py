"""Whole-request deadlines on the real hub (gunicorn, gevent): a peer dripping one byte every 0.8 s."""
import time

from tests.delivery.live import connected_session, deliveries, inbound, listen
from tests.integration.hubproc import HubProcess
from tests.receivers import Dripper


def test_a_dripping_receiver_and_a_dripping_media_url_are_cut_at_their_timeouts(tmp_path):
    dripper = Dripper(interval=0.8)
    try:
        with HubProcess(tmp_path, HUB_WEBHOOK_TIMEOUT="1", HUB_MEDIA_TIMEOUT="1",
                        HUB_RETRY_SCHEDULE="1h") as hub:
            connected_session(hub)
            listener = listen(hub, dripper.url(), events=["message-received"])
            inbound(hub, "hola")
            [failed] = hub.wait_for(lambda: [d for d in deliveries(hub, endpointId=listener["id"])
                                             if d["status"] == "failed"], timeout=10)
            [attempt] = hub.get(f"/api/deliveries/{failed['id']}").json()["delivery"]["attemptLog"]
            assert attempt["latencyMs"] < 2500 and attempt["statusCode"] is None
            assert attempt["error"].startswith("RequestTimedOut:") and "HUB_WEBHOOK_TIMEOUT" in attempt["error"]

            started = time.monotonic()
            sent = hub.post("/api/whatsapp/send", json={"to": "51987654321", "media": {"url": dripper.url("/a.pdf")}})
            assert time.monotonic() - started < 2.5
            assert sent.status_code == 400 and sent.json()["error"] == "media_download_failed"
    finally:
        dripper.close()

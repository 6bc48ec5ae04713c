"""kill -9 during a burst: after the restart every accepted event reaches every endpoint."""
import json
import threading

from tests.delivery.live import FAST_RETRIES, connected_session, inbound, listen, texts
from tests.integration.hubproc import HubProcess
from tests.receivers import Receiver


def test_kill_9_mid_burst_loses_nothing(tmp_path):
    slow = Receiver(lambda n, req: (threading.Event().wait(0.05), (200, {}, b""))[1])
    hub = HubProcess(tmp_path, **FAST_RETRIES)
    with slow, Receiver() as fast:
        with hub:
            connected_session(hub)
            listen(hub, slow.url, events=["message-received"])
            listen(hub, fast.url, events=["message-received"])
            accepted = [f"m{n}" for n in range(60) if inbound(hub, f"m{n}")]
            hub.kill()  # the slow receiver has most of its deliveries still pending or in flight
        assert len(set(texts(slow))) < len(accepted)
        with hub:
            hub.wait_for(lambda: set(texts(slow)) == set(accepted) and set(texts(fast)) == set(accepted), timeout=30)
            # a re-sent event carries the same webhook-id (the event id), so receivers can de-duplicate
            assert all(json.loads(r["body"])["id"] == r["headers"]["webhook-id"] for r in slow.requests)

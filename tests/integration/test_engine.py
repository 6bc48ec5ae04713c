"""The real engine over the simulated WhatsApp, inside real gunicorn with the gevent worker (issue 10).

Each test here failed on the engine before this change: QR phases that end or are interrupted,
media sends from native threads, messages acknowledged before they were stored, and an event
loop that ends while the socket stays up.
"""
from __future__ import annotations

import base64
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests import media_samples
from tests.integration.hubproc import HubProcess


def metric(hub: HubProcess, name: str, labels: str = "") -> float:
    text = hub.get("/metrics").text
    found = re.search(rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+-]+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def create(hub: HubProcess, session_id: str, start: bool = True) -> dict:
    answer = hub.post("/api/sessions", json={"sessionId": session_id, "engine": "sandbox", "start": start})
    assert answer.status_code == 201, answer.text
    return answer.json()["session"]


def qr_code(hub: HubProcess, session_id: str) -> str:
    return hub.wait_for(lambda: (a := hub.get(f"/api/sessions/{session_id}/qr")).status_code == 200
                        and a.json()["qr"], timeout=15)


def status(hub: HubProcess, session_id: str) -> dict:
    return hub.get(f"/api/sessions/{session_id}").json()["session"]


def test_a_qr_phase_that_ends_stops_the_session_and_connect_gives_a_fresh_qr(tmp_path):
    with HubProcess(tmp_path, HUB_SANDBOX_QR_SECONDS="1") as hub:
        create(hub, "lobby")
        first = qr_code(hub, "lobby")
        # six codes (1 s, then five of 1/3 s), then whatsmeow's login status "timeout"
        ended = hub.wait_for(lambda: (s := status(hub, "lobby"))["status"] == "stopped" and s, timeout=20)
        assert ended["lastError"].startswith("qr_timeout")
        hub.post("/api/sessions/lobby/connect")
        assert qr_code(hub, "lobby") != first
        assert hub.post("/api/sandbox/lobby/scan", json={}).json()["session"]["status"] == "connected"
        assert hub.wait_for(lambda: metric(hub, "hub_engine_abandoned_dials_total") >= 1, timeout=15)


@pytest.mark.parametrize("interrupt", ["stop", "restart", "logout", "delete"])
def test_interrupting_a_qr_phase_then_starting_again_gives_a_fresh_qr(tmp_path, interrupt):
    with HubProcess(tmp_path) as hub:
        create(hub, "front")
        first = qr_code(hub, "front")
        if interrupt == "stop":
            hub.post("/api/sessions/front/stop")
            hub.post("/api/sessions/front/connect")
        elif interrupt == "restart":
            hub.stop()
            hub.start()
            hub.post("/api/sessions/front/connect")
        elif interrupt == "logout":
            assert hub.post("/api/sessions/front/logout").json()["session"]["status"] == "logged_out"
            hub.post("/api/sessions/front/connect")
        else:
            assert hub.delete("/api/sessions/front").status_code == 200
            create(hub, "front")
        second = qr_code(hub, "front")
        assert second != first
        assert hub.post("/api/sandbox/front/scan", json={}).json()["session"]["status"] == "connected"
        if interrupt != "restart":  # the interrupted dial's thread is stuck in Go: counted, never reused
            assert hub.wait_for(lambda: metric(hub, "hub_engine_abandoned_dials_total") >= 1, timeout=15)


def test_the_event_loop_ending_while_connected_stops_the_old_client_and_redials(tmp_path):
    with HubProcess(tmp_path) as hub:
        create(hub, "shop")
        qr_code(hub, "shop")
        hub.post("/api/sandbox/shop/scan", json={})
        assert hub.post("/api/sandbox/shop/unencodable-receipt").status_code == 200
        hub.wait_for(lambda: status(hub, "shop")["status"] != "connected", timeout=10)
        assert hub.wait_for(lambda: status(hub, "shop")["status"] == "connected", timeout=20)
        reply = hub.post("/api/whatsapp/send", json={"sessionId": "shop", "to": "51987654321", "message": "still here"})
        assert reply.status_code == 200, reply.text
        assert metric(hub, "hub_sandbox_double_connections_total") == 0
        assert metric(hub, "hub_sandbox_nil_client_calls_total") == 0


def _media(data: bytes, mimetype: str, **flags) -> dict:
    return {"base64": base64.b64encode(data).decode(), "mimetype": mimetype, **flags}


def test_concurrent_media_sends_all_end_sent_and_the_pools_keep_their_threads(tmp_path):
    media = ([_media(media_samples.png(32 + n), "image/png") for n in range(20)]
             + [_media(media_samples.wav(), "audio/wav")] * 5
             + [_media(media_samples.mp4(), "video/mp4")] * 5
             + [_media(media_samples.png(), "image/png", sticker=True)] * 4
             + [_media(media_samples.webp(), "image/webp")]
             + [_media(media_samples.wav(), "audio/wav", voice=True)] * 5)
    with HubProcess(tmp_path) as hub:
        create(hub, "shop")
        qr_code(hub, "shop")
        hub.post("/api/sandbox/shop/scan", json={})
        threads_before = hub.get("/metrics").text.count("hub_engine_pool_threads{")

        def send(item):
            return hub.post("/api/whatsapp/send", json={"sessionId": "shop", "to": "51987654321", "media": item},
                            timeout=60)
        with ThreadPoolExecutor(max_workers=len(media)) as pool:
            answers = list(pool.map(send, media))
        assert [a.status_code for a in answers] == [200] * len(media), [a.text for a in answers if a.status_code != 200]
        assert {a.json()["status"] for a in answers} == {"sent"}
        kinds = sorted(m["kind"] for m in hub.sandbox_sent("shop"))
        assert kinds == sorted(["image"] * 20 + ["audio"] * 10 + ["video"] * 5 + ["sticker"] * 5)
        voice_notes = [m for m in hub.sandbox_sent("shop") if m.get("voice")]
        assert len(voice_notes) == 5 and {m["mimetype"].split(";")[0] for m in voice_notes} == {"audio/ogg"}
        assert metric(hub, "hub_engine_calls_abandoned_total", '{pool="send"}') == 0
        assert hub.get("/metrics").text.count("hub_engine_pool_threads{") == threads_before


def test_unreadable_media_is_refused_before_anything_is_queued(tmp_path):
    with HubProcess(tmp_path) as hub:
        create(hub, "shop")
        qr_code(hub, "shop")
        hub.post("/api/sandbox/shop/scan", json={})
        svg = b'<svg xmlns="http://www.w3.org/2000/svg"/>'
        for item in (_media(svg, "image/svg+xml"), _media(b"\x89PNG\r\n\x1a\nbroken", "image/png"),
                     _media(b"not audio at all", "audio/mpeg"), _media(b"RIFF....WAVEjunk", "audio/wav", voice=True)):
            answer = hub.post("/api/whatsapp/send", json={"sessionId": "shop", "to": "51987654321", "media": item})
            assert answer.status_code == 400 and answer.json()["error"] == "unsupported_media", answer.text
        assert "hub_outbound_total" not in hub.get("/metrics").text or \
            metric(hub, "hub_outbound", '{status="queued"}') + metric(hub, "hub_outbound", '{status="failed"}') == 0
        assert hub.sandbox_sent("shop") == []
        assert hub.get("/api/health").json()["capabilities"]["voice"] is True


def test_kill_9_during_an_inbound_burst_loses_no_acknowledged_message_and_stores_each_once(tmp_path):
    import sqlite3

    from tests.delivery.live import FAST_RETRIES, connected_session, listen
    from tests.receivers import Receiver

    with Receiver() as listener:
        hub = HubProcess(tmp_path, **FAST_RETRIES)
        with hub:
            connected_session(hub)
            listen(hub, listener.url, events=["message-received"])
            accepted: list[str] = []

            def inject(n: int) -> None:
                try:  # wait=false: answered once the simulated WhatsApp holds the message, as a phone's send
                    answer = hub.post("/api/sandbox/shop/inbound", timeout=10,
                                      json={"from": "51999111222", "text": f"m{n}", "wait": False})
                except Exception:  # the hub was killed mid-request: not accepted
                    return
                if answer.status_code in (200, 202):
                    accepted.append(answer.json()["messageId"])
            pool = ThreadPoolExecutor(max_workers=8)
            for n in range(300):
                pool.submit(inject, n)
            hub.wait_for(lambda: len(accepted) >= 150, timeout=60)
            hub.kill()
            pool.shutdown(wait=True)
        database = sqlite3.connect(tmp_path / "hub.db")
        acked = {row[0] for row in database.execute("SELECT message_id FROM sandbox_queue WHERE acked")}
        stored = {row[0] for row in database.execute(
            "SELECT json_extract(data, '$.messageId') FROM events WHERE type = 'message-received'")}
        database.close()
        assert acked <= stored, f"{len(acked - stored)} acknowledged messages were never stored"
        with hub:  # the restored session reconnects; the simulated WhatsApp delivers what was not acknowledged
            hub.wait_for(lambda: set(accepted) <= set(hub.get("/api/sandbox/shop/acknowledged")
                                                         .json()["messageIds"]), timeout=60)
            events = hub.get("/api/events", params={"type": "message-received", "limit": 500}).json()["events"]
            ids = [event["data"]["messageId"] for event in events]
            assert sorted(ids) == sorted(set(ids)) and set(accepted) <= set(ids)  # every one, each once
            hub.wait_for(lambda: set(accepted) <= {e["data"]["messageId"] for e in listener.events()}, timeout=60)


def test_configured_unlinked_sessions_show_a_qr_after_every_start(tmp_path):
    (tmp_path / "sessions.config.json").write_text('[{"sessionId": "caja1", "engine": "sandbox"}, "caja2"]')
    hub = HubProcess(tmp_path)
    for boot in range(2):  # the first boot creates them, the second finds them unlinked
        with hub:
            for session_id in ("caja1", "caja2"):
                code = qr_code(hub, session_id)
                assert hub.get(f"/api/qr/{session_id}").json()["qr"] == code
                time.sleep(1.5)  # restore runs beside: it must not mark them stopped meanwhile
                assert status(hub, session_id)["status"] == "qr", (boot, status(hub, session_id))

"""/metrics: Prometheus text whose values follow what the hub stores and does."""
from __future__ import annotations

import base64

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from hub import metrics
from tests.integration.hubproc import API_KEY, HubProcess
from tests.receivers import Receiver


def parse(exposition: str) -> dict:
    """{(sample name, frozenset(labels)): value}."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(exposition) for sample in family.samples}


def scrape(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return parse(response.get_data(as_text=True))


def value(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def test_metrics_need_the_api_key_and_accept_it_as_bearer_token(app):
    raw = app.test_client()
    assert raw.get("/metrics").status_code == 401
    assert raw.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert raw.get("/metrics", headers={"Authorization": "Bearer test-key"}).status_code == 200


def test_gauges_and_counters_move_when_a_message_arrives(client, hub, sandbox_session):
    metrics.start(hub, scheduler=None)
    before = scrape(client)
    assert value(before, "hub_sessions", status="connected") == 1
    assert value(before, "hub_delivery_queue_depth") == 0
    client.post("/api/whatsapp/register-listener", json={"callbackUrl": "http://127.0.0.1:9/hook"})

    assert client.post("/api/sandbox/shop/inbound", json={"from": "51999000111", "text": "hola"}).status_code == 200

    after = scrape(client)
    for name, labels in (("hub_events_stored", {"type": "message-received"}),
                         ("hub_events_recorded_total", {"type": "message-received"}),
                         ("hub_deliveries", {"status": "pending"})):
        assert value(after, name, **labels) == value(before, name, **labels) + 1, name
    assert value(after, "hub_delivery_queue_depth") == 1  # no dispatcher runs in this test
    assert value(after, "hub_delivery_oldest_pending_age_seconds") > 0


def test_queue_depth_and_oldest_age_per_endpoint_and_session(client, hub, sandbox_session):
    client.post("/api/sessions", json={"sessionId": "quiet", "engine": "sandbox"})  # has no events
    listener = client.post("/api/whatsapp/register-listener", json={"callbackUrl": "http://127.0.0.1:9/hook"}).json
    endpoint = listener["listener"]["id"]
    before = {key for key in scrape(client) if key[0].startswith("hub_delivery_queue_")}
    for n in range(3):
        inbound = client.post("/api/sandbox/shop/inbound", json={"from": "51999000111", "text": f"m{n}"})
        assert inbound.status_code == 200
    samples = scrape(client)  # no dispatcher runs in this test: they all wait
    assert value(samples, "hub_delivery_queue_waiting", endpoint=endpoint, session="shop") == 3
    assert value(samples, "hub_delivery_queue_oldest_age_seconds", endpoint=endpoint, session="shop") > 0
    # Only queues with waiting deliveries get a series: the session without any has none.
    added = {key for key in samples if key[0].startswith("hub_delivery_queue_")} - before
    assert {dict(labels)["session"] for _, labels in added} == {"shop"}


def test_outbound_queue_depth_counts_sends_waiting_for_an_offline_session(client):
    assert client.post("/api/sessions", json={"sessionId": "offline", "engine": "sandbox"}).status_code == 201
    reply = client.post("/api/whatsapp/send", json={"sessionId": "offline", "to": "51999000111", "message": "hi"})
    assert reply.status_code == 202, reply.get_json()
    samples = scrape(client)
    assert value(samples, "hub_outbound_queue_depth") == 1
    assert value(samples, "hub_outbound", status="queued") == 1
    assert value(samples, "hub_outbound_oldest_queued_age_seconds") > 0


def test_a_missing_table_drops_its_series_not_the_scrape(client, hub):
    with hub.store.engine.begin() as connection:
        connection.execute(text("DROP TABLE delivery_attempts"))
        connection.execute(text("DROP TABLE deliveries"))
    samples = scrape(client)
    assert value(samples, "hub_sessions", status="connected") == 0
    assert value(samples, "hub_deliveries", status="pending") is None
    assert value(samples, "hub_outbound_queue_depth") == 0


PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/"
                       "PchI7wAAAABJRU5ErkJggg==")


def test_live_hub_counts_deliveries_latency_and_media(tmp_path):
    with Receiver() as receiver, HubProcess(tmp_path) as hub:
        assert hub.post("/api/sessions",
                        json={"sessionId": "shop", "engine": "sandbox", "start": True}).status_code == 201
        hub.post("/api/sandbox/shop/scan", json={})
        listener = hub.post("/api/whatsapp/register-listener", json={"callbackUrl": receiver.url}).json()["listener"]
        hub.post("/api/sandbox/shop/inbound", json={"from": "51999000111", "text": "hola"})
        media = {"base64": base64.b64encode(PNG).decode(), "mimetype": "image/png", "filename": "dot.png"}
        hub.post("/api/sandbox/shop/inbound", json={"from": "51999000111", "media": media})

        def delivered_twice():
            response = hub.get("/metrics", headers={"Authorization": f"Bearer {API_KEY}"})
            samples = parse(response.text)
            return samples if value(samples, "hub_deliveries", status="delivered") == 2 else None
        samples = hub.wait_for(delivered_twice, timeout=15)

    assert value(samples, "hub_events_recorded_total", type="message-received") == 2
    assert value(samples, "hub_delivery_attempt_latency_seconds_count", endpoint=listener["id"]) == 2
    assert value(samples, "hub_delivery_attempt_latency_seconds_bucket", endpoint=listener["id"], le="10.0") == 2
    assert value(samples, "hub_media_stored_bytes") == len(PNG)
    assert value(samples, "hub_media_stored_files") == 1
    assert value(samples, "hub_delivery_queue_depth") == 0
    assert value(samples, "process_resident_memory_bytes") > 0

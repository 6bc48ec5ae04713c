"""WebSockets on real gunicorn: single-use tickets instead of the key in the URL, and the Origin check."""
from __future__ import annotations

import json

import pytest
import websocket

from tests.integration.hubproc import API_KEY, HubProcess


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with HubProcess(tmp_path_factory.mktemp("hub")) as running:
        yield running


def events_url(hub: HubProcess, **params) -> str:
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return f"ws://127.0.0.1:{hub.port}/ws/events?{query}"


def refused_status(url: str, **options) -> int:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, timeout=5, **options)
    return refused.value.status_code


def test_a_ticket_opens_the_event_stream_once(hub):
    ticket = hub.post("/api/ws-ticket").json()["ticket"]
    ws = websocket.create_connection(events_url(hub, ticket=ticket), timeout=10)
    try:
        hub.post("/api/sessions", json={"sessionId": "t1", "engine": "sandbox", "start": True})
        assert json.loads(ws.recv())["sessionId"] == "t1"
    finally:
        ws.close()
    assert refused_status(events_url(hub, ticket=ticket)) == 403


def test_the_key_in_the_url_still_works_for_older_clients(hub):
    ws = websocket.create_connection(events_url(hub, apiKey=API_KEY), timeout=10)
    ws.close()
    assert refused_status(events_url(hub)) == 401


def test_another_sites_page_is_refused_and_a_client_without_origin_is_not(hub):
    ticket = hub.post("/api/ws-ticket").json()["ticket"]
    assert refused_status(events_url(hub, ticket=ticket), origin="https://evil.example") == 403
    assert refused_status(events_url(hub, apiKey=API_KEY), origin="https://evil.example") == 403
    ticket = hub.post("/api/ws-ticket").json()["ticket"]
    websocket.create_connection(events_url(hub, ticket=ticket), timeout=10, suppress_origin=True).close()

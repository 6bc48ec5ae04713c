"""Start-up settings the older deployments carry over, under real gunicorn: their token names
(API_STATIC_TOKEN, API_KEY) and HUB_DEFAULT_SESSION, with the warnings an operator needs."""
from __future__ import annotations

import json

import requests

from tests.integration.hubproc import HubProcess

TOKEN = "bot-microservice-token-7f3a"


def warnings(hub: HubProcess) -> list[str]:
    lines = [json.loads(line) for line in hub.logs().splitlines() if line.startswith("{")]
    return [line["message"] for line in lines if line.get("level") == "WARNING"]


def test_legacy_token_is_the_key_and_is_never_logged(tmp_path):
    with HubProcess(tmp_path, HUB_API_KEY="", API_STATIC_TOKEN=TOKEN) as hub:
        url = hub.url + "/api/sessions"
        assert requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).status_code == 200
        assert requests.get(url, headers={"X-API-Key": "integration-key"}, timeout=10).status_code == 403
        assert any("API_STATIC_TOKEN" in message for message in warnings(hub))
        assert TOKEN not in hub.logs()
        assert not (tmp_path / "hub.key").exists()  # no new key generated behind the old clients' backs


def test_a_default_session_that_does_not_exist_is_a_warning_and_a_named_400(tmp_path):
    with HubProcess(tmp_path, HUB_DEFAULT_SESSION="facturacion") as hub:
        hub.wait_for(lambda: any("HUB_DEFAULT_SESSION" in message for message in warnings(hub)))
        hub.post("/api/sessions", json={"sessionId": "otra", "engine": "sandbox", "start": True})
        reply = hub.post("/api/whatsapp/send", json={"to": "51987654321", "message": "hola"})
        assert reply.status_code == 400 and reply.json()["error"] == "default_session_missing"
        assert "HUB_DEFAULT_SESSION" in reply.json()["message"]

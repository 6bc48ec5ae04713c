"""Logs: JSON lines with the ids that apply, human text on request, never a key or a secret."""
from __future__ import annotations

import json
import logging

import pytest
import requests

from hub import logs
from tests.integration.hubproc import API_KEY, HubProcess
from tests.receivers import Receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def render(handler: logging.Handler, message: str, *args, exc: BaseException | None = None, **extra) -> str:
    record = logging.LogRecord("hub.test", logging.WARNING, __file__, 1, message, args,
                               (type(exc), exc, exc.__traceback__) if exc else None)
    record.__dict__.update(extra)
    assert handler.filter(record)
    return handler.format(record)


def test_json_lines_carry_the_ids_given_in_extra():
    line = json.loads(render(logs.make_handler("json"), "delivery %s failed", "dlv_1",
                             sessionId="shop", eventId="evt_1", deliveryId="dlv_1"))
    assert line["message"] == "delivery dlv_1 failed"
    assert (line["level"], line["logger"]) == ("WARNING", "hub.test")
    assert (line["sessionId"], line["eventId"], line["deliveryId"]) == ("shop", "evt_1", "dlv_1")
    assert "endpointId" not in line


def test_text_format_shows_the_ids_too():
    text = render(logs.make_handler("text"), "session %s is connected", "shop", sessionId="shop")
    assert text.endswith("WARNING hub.test: session shop is connected [sessionId=shop]")


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_keys_and_secrets_are_redacted_everywhere(log_format):
    handler = logs.make_handler(log_format, secrets=["k-123456"])
    try:
        raise ValueError(f"bad secret {SECRET} for key k-123456")
    except ValueError as exc:
        error = exc
    output = render(handler, "GET /api/sessions?apiKey=%s&x=1 headers=%s", "other-key",
                    {"X-API-Key": "k-123456", "Authorization": "Bearer tok"}, exc=error,
                    endpointId="k-123456")
    for leaked in ("k-123456", "other-key", "tok", SECRET[6:]):
        assert leaked not in output
    assert "apiKey=[REDACTED]&x=1" in output and "whsec_[REDACTED]" in output
    assert "ValueError" in output  # the traceback is kept, only the secrets go


def test_a_real_hub_writes_json_lines_without_keys_or_secrets(tmp_path):
    with Receiver() as receiver, HubProcess(tmp_path, HUB_LOG_LEVEL="DEBUG") as hub:
        hub.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox", "start": True})
        hub.post("/api/sandbox/shop/scan", json={})
        hub.post("/api/whatsapp/register-listener", json={"callbackUrl": receiver.url, "secret": SECRET})
        hub.post("/api/sandbox/shop/inbound", json={"from": "51999000111", "text": "hola"})
        requests.get(f"{hub.url}/api/sessions?apiKey={API_KEY}", timeout=5)
        requests.get(f"{hub.url}/api/sessions", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5)
        hub.wait_for(lambda: receiver.requests)
    output = hub.logs()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert API_KEY not in output and SECRET[6:] not in output
    assert any("apiKey=[REDACTED]" in line["message"] for line in lines)  # the access line, redacted
    connected = [line for line in lines if line["message"] == "session shop is connected (was starting)"]
    assert connected and connected[0]["sessionId"] == "shop" and connected[0]["eventId"].startswith("evt_")
    assert any(line["message"] == "event message-received recorded" for line in lines)

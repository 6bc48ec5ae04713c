"""Integers and datetimes from callers: out-of-range values are 400, never a 500 from the database."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

HUGE = str(2**64)
INT64_MAX = str(2**63 - 1)


@pytest.mark.parametrize("path", ["/api/events?afterSeq={}", "/api/deliveries?offset={}",
                                  "/api/messages/shop?offset={}"])
@pytest.mark.parametrize("value", [HUGE, "-1", "1e400"])
def test_integers_beyond_64_bits_or_negative_are_400(client, sandbox_session, path, value):
    response = client.get(path.format(value))
    assert response.status_code == 400 and response.get_json()["error"] == "validation_error"


@pytest.mark.parametrize("path", ["/api/events?afterSeq={}", "/api/deliveries?offset={}",
                                  "/api/messages/shop?offset={}"])
def test_the_largest_64_bit_integer_is_answered(client, sandbox_session, path):
    assert client.get(path.format(INT64_MAX)).status_code == 200


def test_replay_with_one_naive_and_one_aware_datetime_is_answered(client, hub, sandbox_session):
    client.post("/api/shop/webhook", json={"url": "http://127.0.0.1:9/hook"})
    endpoint_id = client.get("/api/shop/webhook").get_json()["webhooks"][0]["id"]
    body = {"endpointId": endpoint_id, "since": "2020-01-01T00:00:00", "until": "2999-01-01T00:00:00+00:00"}
    assert client.post("/api/deliveries/replay", json=body).status_code == 200
    swapped = {**body, "since": "2020-01-01T00:00:00+05:00", "until": "2999-01-01T00:00:00"}
    assert client.post("/api/deliveries/replay", json=swapped).status_code == 200


def test_naive_datetimes_are_utc(client, hub, sandbox_session):
    client.post("/api/shop/webhook", json={"url": "http://127.0.0.1:9/hook"})
    client.post("/api/shop/webhook/test")
    [delivery] = client.get("/api/deliveries").get_json()["deliveries"]
    created = delivery["createdAt"][:19]  # naive wall-clock UTC, to the second
    second_later = (datetime.fromisoformat(created) + timedelta(seconds=1)).isoformat()
    window = {"since": created, "until": second_later + "+00:00"}
    assert client.get("/api/deliveries", query_string=window).get_json()["total"] == 1
    later = f"since={created}-01:00"  # the same wall clock one hour west of UTC is an hour later
    assert client.get(f"/api/deliveries?{later}").get_json()["total"] == 0


@pytest.mark.parametrize("since,until", [("2024-01-02T00:00:00", "2024-01-01T00:00:00+00:00"),
                                         ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00")])
def test_until_must_be_after_since(client, since, until):
    response = client.get("/api/deliveries", query_string={"since": since, "until": until})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_range"
    replay = client.post("/api/deliveries/replay", json={"endpointId": "ep_x", "since": since, "until": until})
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_range"

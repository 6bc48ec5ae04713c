"""Contacts routes on a connected sandbox session: number checks, look-ups and their cache,
the send API's not_on_whatsapp refusal, LID mappings kept in the database."""
from __future__ import annotations

import pytest

from hub.contacts import service
from hub.sessions.lids import LidStore
from hub.store.contacts import ContactCheck
from hub.store.models import utcnow


def registry(client, phone, **fields):
    response = client.put(f"/api/sandbox/contacts/{phone}", json=fields)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def check(client, phones, session_id="shop"):
    return client.post(f"/api/sessions/{session_id}/contacts/check", json={"phones": phones})


def test_check_answers_each_number_and_a_bad_row_does_not_stop_the_others(client, sandbox_session):
    registry(client, "51900000002", exists=False)
    response = check(client, ["+51 900 000 001", "51900000002", "not a number", 51900000003, "51900000001@c.us"])
    assert response.status_code == 200
    rows = response.get_json()["results"]
    assert [row["input"] for row in rows] == ["+51 900 000 001", "51900000002", "not a number", 51900000003,
                                               "51900000001@c.us"]
    assert rows[0]["exists"] is True and rows[0]["jid"] == "51900000001@s.whatsapp.net"
    assert rows[0]["lid"].endswith("@lid")
    assert rows[1] == {"input": "51900000002", "exists": False, "jid": "51900000002@s.whatsapp.net", "lid": None}
    assert rows[2]["error"] == "invalid_phone" and "exists" not in rows[2]
    assert rows[3]["exists"] is True and rows[4]["lid"] == rows[0]["lid"]


def test_check_of_more_than_50_is_400_and_asks_nobody(client, sandbox_session):
    phones = [f"5190000{n:04d}" for n in range(51)]
    response = check(client, phones)
    assert response.status_code == 400 and response.get_json()["error"] == "too_many_numbers"
    assert registry(client, phones[0])["served"] == {}


def test_check_needs_a_connected_session(client):
    assert check(client, ["51900000001"], "nope").status_code == 404
    client.post("/api/sessions", json={"sessionId": "idle", "engine": "sandbox"})
    response = check(client, ["51900000001"], "idle")
    assert response.status_code == 409 and response.get_json()["error"] == "session_not_connected"


def test_lookup_shows_the_profile_and_is_cached(client, sandbox_session):
    registry(client, "51900000003", pushName="Ana", about="Hola", isBusiness=True, lid="777000111222333")
    first = client.get("/api/sessions/shop/contacts/+51 900 000 003")
    assert first.status_code == 200
    contact = first.get_json()["contact"]
    assert contact == {"jid": "51900000003@s.whatsapp.net", "lid": "777000111222333@lid", "phone": "51900000003",
                       "pushName": "Ana", "about": "Hola", "pictureUrl": contact["pictureUrl"], "isBusiness": True}
    assert contact["pictureUrl"].startswith("https://pps.whatsapp.net/")
    served = registry(client, "51900000003")["served"]
    again = client.get("/api/sessions/shop/contacts/51900000003@s.whatsapp.net")
    assert again.get_json()["contact"] == contact
    assert registry(client, "51900000003")["served"] == served  # answered from the cache
    by_lid = client.get("/api/sessions/shop/contacts/777000111222333@lid")  # the LID is known now
    assert by_lid.status_code == 200 and by_lid.get_json()["contact"]["phone"] == "51900000003"


def test_lookup_cache_expires(client, sandbox_session, hub):
    registry(client, "51900000004", pushName="Old")
    client.get("/api/sessions/shop/contacts/51900000004")
    registry(client, "51900000004", pushName="New")
    cache = service.cache_of(hub)
    cache.clock = lambda: 1e12  # far past the TTL
    assert client.get("/api/sessions/shop/contacts/51900000004").get_json()["contact"]["pushName"] == "New"


def test_lookup_errors(client, sandbox_session):
    registry(client, "51900000005", exists=False)
    absent = client.get("/api/sessions/shop/contacts/51900000005")
    assert absent.status_code == 404 and absent.get_json()["error"] == "not_on_whatsapp"
    unknown_lid = client.get("/api/sessions/shop/contacts/123456789012345@lid")
    assert unknown_lid.status_code == 404 and unknown_lid.get_json()["error"] == "lid_unknown"
    assert client.get("/api/sessions/shop/contacts/12ab").status_code == 400


def send(client, force=None, to="51900000006"):
    body = {"sessionId": "shop", "to": to, "message": "Factura"}
    if force is not None:
        body["force"] = force
    return client.post("/api/whatsapp/send", json=body)


def test_send_to_a_number_found_absent_is_refused_unless_forced(client, sandbox_session):
    registry(client, "51900000006", exists=False)
    assert check(client, ["51900000006"]).get_json()["results"][0]["exists"] is False
    refused = send(client)
    assert refused.status_code == 400 and refused.get_json()["error"] == "not_on_whatsapp"
    assert client.get("/api/sandbox/shop/sent").get_json()["messages"] == []
    assert send(client, force=True).status_code == 200
    assert send(client, to="51900000007").status_code == 200  # never checked: sent


def test_an_absence_older_than_24_hours_no_longer_refuses(client, sandbox_session, hub):
    with hub.store.session() as db:
        db.add(ContactCheck(session_id="shop", phone="51900000008", exists=False,
                            jid="51900000008@s.whatsapp.net", checked_at=utcnow() - service.ABSENT_FOR * 1.01))
    assert send(client, to="51900000008").status_code == 200


@pytest.mark.parametrize("fields", [{"lid": "abc"}, {"exists": "no"}, {"pushName": "x" * 129}])
def test_registry_refuses_bad_fields(client, fields):
    response = client.put("/api/sandbox/contacts/51900000009", json=fields)
    assert response.status_code == 400 and response.get_json()["error"] == "validation_error"


def test_lid_mappings_survive_a_new_store_object(hub):
    LidStore(hub.store).remember("111222333444555@lid", "51900000010@s.whatsapp.net", "event")
    fresh = LidStore(hub.store)
    assert fresh.phone_of("111222333444555@lid") == "51900000010@s.whatsapp.net"
    assert fresh.lid_of("51900000010@s.whatsapp.net") == "111222333444555@lid"
    assert fresh.phone_of("999@lid") is None


def test_a_scoped_key_checks_its_own_session_only_and_cannot_change_the_registry(client, sandbox_session):
    client.post("/api/sessions", json={"sessionId": "other", "engine": "sandbox"})
    key = client.post("/api/keys", json={"name": "crm", "sessions": ["shop"]}).get_json()["key"]
    headers = {"X-API-Key": key["key"]}
    own = client.raw.post("/api/sessions/shop/contacts/check", json={"phones": ["51900000011"]}, headers=headers)
    assert own.status_code == 200
    other = client.raw.post("/api/sessions/other/contacts/check", json={"phones": ["51900000011"]}, headers=headers)
    assert other.status_code == 404 and other.get_json()["error"] == "session_not_found"
    registry_change = client.raw.put("/api/sandbox/contacts/51900000011", json={"exists": False}, headers=headers)
    assert registry_change.status_code == 403 and registry_change.get_json()["error"] == "admin_required"


def test_lookup_by_a_lid_only_whatsapps_store_knows(client, sandbox_session, hub):
    registry(client, "51900000012", pushName="Luz", lid="888000111222333")
    assert hub.sessions.lids.phone_of("888000111222333@lid") is None
    response = client.get("/api/sessions/shop/contacts/888000111222333@lid")  # GetPNFromLID answers
    assert response.status_code == 200 and response.get_json()["contact"]["pushName"] == "Luz"
    assert LidStore(hub.store).phone_of("888000111222333@lid") == "51900000012@s.whatsapp.net"  # and it is kept


def test_an_absence_another_process_recorded_counts_once_the_index_reloads(client, sandbox_session, hub):
    assert send(client, to="51900000013").status_code == 200  # the index is loaded now
    with hub.store.session() as db:  # another hub process of the cluster checked the number
        db.add(ContactCheck(session_id="shop", phone="51900000013", exists=False,
                            jid="51900000013@s.whatsapp.net", checked_at=utcnow()))
    index = service.absent_numbers(hub)
    index.clock = lambda: 1e12  # past its reload interval
    refused = send(client, to="51900000013")
    assert refused.status_code == 400 and refused.get_json()["error"] == "not_on_whatsapp"


def test_a_later_check_that_finds_the_number_lifts_the_refusal(client, sandbox_session):
    registry(client, "51900000014", exists=False)
    check(client, ["51900000014"])
    assert send(client, to="51900000014").status_code == 400
    registry(client, "51900000014", exists=True)
    assert check(client, ["51900000014"]).get_json()["results"][0]["exists"] is True
    assert send(client, to="51900000014").status_code == 200


def test_registry_nulls_clear_texts_and_leave_flags(client):
    registry(client, "51900000015", exists=False, pushName="Eva", isBusiness=True)
    contact = registry(client, "51900000015", exists=None, isBusiness=None, pushName=None)["contact"]
    assert contact["exists"] is False and contact["isBusiness"] is True and contact["pushName"] is None


def test_deleting_a_session_forgets_its_checks(client, sandbox_session, hub):
    registry(client, "51900000016", exists=False)
    check(client, ["51900000016"])
    assert client.delete("/api/sessions/shop").status_code == 200
    with hub.store.session() as db:
        assert db.get(ContactCheck, ("shop", "51900000016")) is None
    client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox", "start": True})
    client.post("/api/sandbox/shop/scan", json={})
    assert send(client, to="51900000016").status_code == 200  # the new session never checked it

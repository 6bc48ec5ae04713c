"""Groups under the real hub (gunicorn, gevent) on the simulated WhatsApp: two sandbox sessions share a group.

The simulated goneonize answers CreateGroup, GetGroupInfo, UpdateGroupParticipants, SetGroupName,
SetGroupTopic, SetGroupAnnounce, SetGroupLocked, GetGroupInviteLink, GetJoinedGroups and LeaveGroup
(goneonize 0.5.2 main.go) and pushes whatsmeow's JoinedGroup / GroupInfo events to every participant.
"""
from __future__ import annotations

import pytest

from tests.integration.hubproc import HubProcess

A_PHONE, B_PHONE, PRIVATE_PHONE, OUTSIDER_PHONE = "51911100001", "51922200002", "51933300003", "51944400004"
B_JID = f"{B_PHONE}@s.whatsapp.net"
A_JID = f"{A_PHONE}@s.whatsapp.net"


def linked(hub: HubProcess, session_id: str, phone: str) -> None:
    assert hub.post("/api/sessions", json={"sessionId": session_id, "start": True}).status_code == 201
    assert hub.post(f"/api/sandbox/{session_id}/scan", json={"phone": phone}).status_code == 200


def group_updates(hub: HubProcess, session_id: str) -> list[dict]:
    events = hub.get("/api/events", params={"sessionId": session_id, "type": "group-update", "limit": 100})
    return [event["data"] for event in reversed(events.json()["events"])]


def wait_updates(hub: HubProcess, session_id: str, count: int) -> list[dict]:
    return hub.wait_for(lambda: (found := group_updates(hub, session_id)) and len(found) >= count and found)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with HubProcess(tmp_path_factory.mktemp("groups")) as running:
        for session_id, phone in (("a", A_PHONE), ("b", B_PHONE), ("outsider", OUTSIDER_PHONE)):
            linked(running, session_id, phone)
        yield running


@pytest.fixture(scope="module")
def group(hub):
    """A's group with B (and a number whose privacy refuses being added)."""
    assert hub.request("PUT", f"/api/sandbox/privacy/{PRIVATE_PHONE}", json={"groupAdd": "none"}).status_code == 200
    answer = hub.post("/api/sessions/a/groups", json={"subject": "Ventas", "participants": [f"+{B_PHONE}",
                                                                                            PRIVATE_PHONE]})
    assert answer.status_code == 201, answer.text
    return answer.json()["group"]


def test_a_creates_a_group_with_b_and_the_private_number_is_refused(hub, group):
    assert group["groupId"].endswith("@g.us")
    assert group["subject"] == "Ventas"
    assert group["owner"] == A_JID
    members = {p["jid"]: (p["isAdmin"], p["isSuperAdmin"]) for p in group["participants"]}
    assert members == {A_JID: (True, True), B_JID: (False, False)}
    assert group["refused"] == [{"jid": f"{PRIVATE_PHONE}@s.whatsapp.net", "ok": False, "error": "refused_by_privacy",
                                 "status": 403, "message": group["refused"][0]["message"]}]
    listed = hub.get("/api/sessions/b/groups").json()["groups"]
    assert [g["groupId"] for g in listed] == [group["groupId"]]


def test_b_promoted_and_b_hears_every_change_whoever_made_it(hub, group):
    gid = group["groupId"]
    answer = hub.post(f"/api/sessions/a/groups/{gid}/participants",
                      json={"action": "promote", "participants": [B_PHONE, OUTSIDER_PHONE]})
    assert answer.status_code == 200, answer.text
    rows = answer.json()["results"]
    assert rows[0] == {"jid": B_JID, "ok": True}
    assert rows[1]["ok"] is False and rows[1]["error"] == "not_in_group" and rows[1]["status"] == 404
    info = hub.get(f"/api/sessions/b/groups/{gid}").json()["group"]
    assert {p["jid"]: p["isAdmin"] for p in info["participants"]} == {A_JID: True, B_JID: True}

    changed = hub.request("PATCH", f"/api/sessions/b/groups/{gid}",
                          json={"subject": "Ventas Lima", "description": "Pedidos", "announce": True})
    assert changed.status_code == 200, changed.text
    assert changed.json()["group"]["settings"] == {"announce": True, "locked": False}

    updates = wait_updates(hub, "b", 5)
    assert [(u["action"], u["by"]) for u in updates[:5]] == [
        ("created", A_JID), ("promote", A_JID), ("subject", B_JID), ("description", B_JID), ("settings", B_JID)]
    assert updates[1]["participants"] == [B_JID]
    assert updates[2]["subject"] == "Ventas Lima" and updates[4]["settings"] == {"announce": True}
    assert all(u["groupId"] == gid for u in updates)
    seen_by_a = [u["action"] for u in wait_updates(hub, "a", 5)]
    assert seen_by_a[:5] == ["created", "promote", "subject", "description", "settings"]


def test_group_messages_reach_every_member_both_ways(hub, group):
    gid = group["groupId"]
    sent = hub.post("/api/whatsapp/send", json={"sessionId": "b", "to": gid, "message": "hola grupo"})
    assert sent.status_code == 200, sent.text

    def received():
        events = hub.get("/api/events", params={"sessionId": "a", "type": "message-received"}).json()["events"]
        return [e["data"] for e in events if e["data"]["messageId"] == sent.json()["messageId"]]
    data = hub.wait_for(received)[0]
    assert (data["chatId"], data["from"], data["isGroup"], data["text"]) == (gid, B_JID, True, "hola grupo")

    inbound = hub.post("/api/sandbox/a/inbound", json={"group": gid, "from": "51955500005", "text": "del teléfono"})
    assert inbound.status_code == 200, inbound.text
    events = hub.get("/api/events", params={"sessionId": "a", "type": "message-received"}).json()["events"]
    assert events[0]["data"]["chatId"] == gid and events[0]["data"]["isGroup"] is True


def test_bad_group_ids_outsiders_and_non_admins_are_refused(hub, group):
    gid = group["groupId"]
    bad = hub.get(f"/api/sessions/a/groups/{B_JID}")
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_group_id")
    for method, path, body in (("GET", f"/groups/{gid}", None), ("PATCH", f"/groups/{gid}", {"subject": "x"}),
                               ("POST", f"/groups/{gid}/participants", {"action": "add", "participants": [A_PHONE]}),
                               ("POST", f"/groups/{gid}/leave", None), ("GET", f"/groups/{gid}/invite-link", None)):
        answer = hub.request(method, "/api/sessions/outsider" + path, json=body)
        assert (answer.status_code, answer.json()["error"]) == (404, "group_not_found"), (method, path, answer.text)
    assert hub.get("/api/sessions/outsider/groups").json()["groups"] == []


def test_invite_link_reset_and_leave(hub, group):
    gid = group["groupId"]
    first = hub.get(f"/api/sessions/a/groups/{gid}/invite-link").json()["inviteLink"]
    assert first.startswith("https://chat.whatsapp.com/")
    assert hub.get(f"/api/sessions/a/groups/{gid}/invite-link").json()["inviteLink"] == first
    reset = hub.get(f"/api/sessions/a/groups/{gid}/invite-link", params={"reset": "true"}).json()["inviteLink"]
    assert reset != first

    assert hub.post(f"/api/sessions/b/groups/{gid}/leave").status_code == 200
    left = hub.wait_for(lambda: [u for u in group_updates(hub, "a") if u["action"] == "left"])
    assert left[0]["participants"] == [B_JID] and left[0]["by"] == B_JID
    assert hub.get(f"/api/sessions/b/groups/{gid}").status_code == 404
    members = hub.get(f"/api/sessions/a/groups/{gid}").json()["group"]["participants"]
    assert [p["jid"] for p in members] == [A_JID]

"""whatsmeow's group events (goneonize JoinedGroupEv 21, GroupInfoEv 22), built the way the simulated
WhatsApp builds them (hub.sandbox.groups: goneonize EncodeGroupInfo / EncodeGroupInfoEvent), through a
real NewClient's handler as Go calls it, become `group-update` events — one per change."""
from __future__ import annotations

from neonize.proto import Neonize_pb2 as N

from hub.sandbox.groups import group_info
from hub.sessions import builders
from hub.sessions.group_events import map_group_event

GROUP = "120363000000000001@g.us"
OWNER, MEMBER = "51911100001", "51922200002"


def view(**changes) -> dict:
    return {"jid": GROUP, "subject": "Ventas", "subjectBy": OWNER, "description": "", "descriptionId": "",
            "owner": OWNER, "announce": False, "locked": False, "inviteCode": "x", "createdAt": 1764500000,
            "changedAt": 1764500000, "members": {OWNER: "superadmin", MEMBER: "member"}, **changes}


def info_event(sender: str, **change) -> N.GroupInfoEvent:
    return N.GroupInfoEvent(JID=builders.jid(GROUP), Notify="", Sender=builders.jid(sender), Timestamp=1764500001,
                            PrevParticipantsVersionID="", ParticipantVersionID="1", JoinReason="", **change)


def test_a_new_group_is_created_with_its_participants_by_its_creator(parsed):
    event = parsed(N.JoinedGroup(Reason="", Type="new", CreateKey="k", GroupInfo=group_info(view(), None),
                                 Sender=builders.jid(f"{OWNER}@s.whatsapp.net")))
    [draft] = map_group_event(event)
    assert draft.type == "group-update"
    assert draft.data == {"groupId": GROUP, "action": "created", "by": f"{OWNER}@s.whatsapp.net",
                          "participants": [f"{OWNER}@s.whatsapp.net", f"{MEMBER}@s.whatsapp.net"],
                          "subject": "Ventas", "timestamp": "2025-11-30T10:53:20.000Z"}


def test_each_change_of_a_group_info_event_is_one_update_in_whatsmeow_order(parsed):
    sender = f"{MEMBER}@s.whatsapp.net"
    event = parsed(info_event(sender, Name=N.GroupName(Name="Nuevo", NameSetAt=1, NameSetBy=builders.jid(sender)),
                              Locked=N.GroupLocked(isLocked=True), Promote=[builders.jid(f"{OWNER}@s.whatsapp.net")]))
    drafts = map_group_event(event)
    assert [(d.data["action"], d.data["by"]) for d in drafts] == [("subject", sender), ("settings", sender),
                                                                  ("promote", sender)]
    assert drafts[0].data["subject"] == "Nuevo"
    assert drafts[1].data["settings"] == {"locked": True}
    assert drafts[2].data["participants"] == [f"{OWNER}@s.whatsapp.net"]


def test_leaving_is_left_and_removing_someone_else_is_remove(parsed):
    me, other = f"{MEMBER}@s.whatsapp.net", f"{OWNER}@s.whatsapp.net"
    [left] = map_group_event(parsed(info_event(me, Leave=[builders.jid(me)])))
    [removed] = map_group_event(parsed(info_event(other, Leave=[builders.jid(me)])))
    assert (left.data["action"], removed.data["action"]) == ("left", "remove")


def test_participants_by_lid_are_reported_by_phone_when_known(parsed):
    lid, phone = "123456789012345@lid", f"{MEMBER}@s.whatsapp.net"
    event = parsed(info_event(lid, Join=[builders.jid(lid)]))
    [draft] = map_group_event(event, lambda address: phone if address == lid else None)
    assert (draft.data["by"], draft.data["participants"]) == (phone, [phone])

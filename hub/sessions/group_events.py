"""whatsmeow's group events -> `group-update` hub events (README.md, "Groups").

WhatsApp tells every participant's devices about each change, whoever made it: `events.JoinedGroup`
when the session is in a new group (goneonize JoinedGroupEv), `events.GroupInfo` for a change of
an existing one (GroupInfoEv: one notification may carry several changes; each becomes an event).
"""
from __future__ import annotations

from neonize.proto import Neonize_pb2 as N

from hub.sessions.mapping import HubEventDraft, Resolver, iso_from_unix, jid_str, phone_jid

GROUP_EVENTS = (N.GroupInfoEvent, N.JoinedGroup)
# events.GroupInfo's participant lists -> the action they report.
PARTICIPANT_CHANGES = (("Join", "add"), ("Leave", "remove"), ("Promote", "promote"), ("Demote", "demote"))


def map_group_event(event, resolve_lid: Resolver | None = None) -> list[HubEventDraft]:
    """JoinedGroupEv / GroupInfoEv -> one group-update draft per change."""
    if isinstance(event, N.JoinedGroup):
        return [joined(event, resolve_lid)]
    return changes(event, resolve_lid)


def joined(event: N.JoinedGroup, resolve_lid: Resolver | None = None) -> HubEventDraft:
    """A group the session is now in: `created` (a new group, Type "new"), else `joined` (invite, link)."""
    info = event.GroupInfo
    participants = [_address(p.PhoneNumber if not p.PhoneNumber.IsEmpty else p.JID, resolve_lid)
                    for p in info.Participants if not p.Error]
    data = {"groupId": jid_str(info.JID), "action": "created" if event.Type == "new" else "joined",
            "participants": participants, "by": _address(event.Sender, resolve_lid) or None,
            "subject": info.GroupName.Name,
            # GroupCreated is a proto float (seconds lose precision): a new group's name was set when it was made.
            "timestamp": iso_from_unix(info.GroupName.NameSetAt or info.GroupCreated)}
    return HubEventDraft("group-update", data)


def changes(event: N.GroupInfoEvent, resolve_lid: Resolver | None = None) -> list[HubEventDraft]:
    """Each change an events.GroupInfo carries, in whatsmeow's field order."""
    base = {"groupId": jid_str(event.JID), "by": _address(event.Sender, resolve_lid) or None,
            "timestamp": iso_from_unix(event.Timestamp)}
    found = []
    if event.HasField("Name"):
        found.append({"action": "subject", "participants": [], "subject": event.Name.Name})
    if event.HasField("Topic"):
        found.append({"action": "description", "participants": [], "description": event.Topic.Topic})
    if event.HasField("Announce") or event.HasField("Locked"):
        found.append({"action": "settings", "participants": [], "settings": _settings(event)})
    for field, action in PARTICIPANT_CHANGES:
        people = [_address(jid, resolve_lid) for jid in getattr(event, field)]
        if people:
            left = action == "remove" and people == [base["by"]]  # whatsmeow reports a leave as a Leave by oneself
            found.append({"action": "left" if left else action, "participants": people})
    return [HubEventDraft("group-update", {**base, **change}) for change in found]


def _settings(event: N.GroupInfoEvent) -> dict:
    """What the notification changed: announce (only admins send), locked (only admins edit the info)."""
    settings = {}
    if event.HasField("Announce"):
        settings["announce"] = event.Announce.IsAnnounce
    if event.HasField("Locked"):
        settings["locked"] = event.Locked.isLocked
    return settings


def _address(jid, resolve_lid: Resolver | None) -> str:
    """A participant's phone JID when known (LIDs resolved), '' for an empty JID."""
    return phone_jid(jid_str(jid), "", resolve_lid) if jid is not None else ""

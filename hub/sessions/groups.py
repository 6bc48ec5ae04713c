"""Group management through a connected session (README.md, "Groups").

Each function asks WhatsApp through the session's neonize client (goneonize's CreateGroup,
GetJoinedGroups, GetGroupInfo, SetGroupName, SetGroupTopic, SetGroupAnnounce, SetGroupLocked,
UpdateGroupParticipants, GetGroupInviteLink, LeaveGroup) in the bridge's control pool, with its
deadline. WhatsApp's refusals become the hub's errors: not in the group / no such group → 404,
not an admin → 403; a refused participant is a row of the answer, not an error.
"""
from __future__ import annotations

from dataclasses import dataclass

from neonize.utils.enum import ParticipantChange
from neonize.utils.jid import build_jid

from hub.cluster.commands import command_argument, on_holder
from hub.errors import BadRequest, Forbidden, HubError, NotFound, Unavailable
from hub.sessions.engine import EngineError, NotConnected
from hub.sessions.jids import normalise_jid
from hub.sessions.mapping import jid_str

# whatsmeow's texts for "you cannot see this group" (ErrNotInGroup, ErrGroupNotFound, IQ 404).
NOT_FOUND_TEXTS = ("not participating", "does not exist", "status 404")
FORBIDDEN_TEXTS = ("status 403", "status 401", "permission")
# UpdateGroupParticipants' per-participant error codes (WhatsApp's) -> what the row says.
PARTICIPANT_ERRORS = {403: ("refused_by_privacy", "Their privacy settings do not let you add them to groups."),
                      404: ("not_in_group", "They are not in the group."),
                      409: ("already_in_group", "They are already in the group."),
                      406: ("not_allowed", "WhatsApp does not allow this change for them (the group's creator).")}


@command_argument
@dataclass
class GroupChanges:
    """A PATCH of a group: only the fields given change."""

    subject: str | None = None
    description: str | None = None
    announce: bool | None = None
    locked: bool | None = None


def group_jid(group_id: str) -> str:
    """'1203…@g.us' as given; 400 for anything that is not a group JID."""
    if not isinstance(group_id, str) or not group_id.endswith("@g.us"):
        raise BadRequest(f"'{group_id}' is not a group id: group ids end in @g.us (see GET …/groups).",
                         code="invalid_group_id")
    return normalise_jid(group_id, "groupId")


@on_holder
def list_groups(manager, session_id: str) -> list[dict]:
    """Every group the session is in (goneonize GetJoinedGroups)."""
    return [group_view(info) for info in _ask(manager, session_id, "get_joined_groups")]


@on_holder
def group_info(manager, session_id: str, group_id: str) -> dict:
    """One group: subject, description, owner, participants with admin flags, settings (GetGroupInfo)."""
    return group_view(_ask(manager, session_id, "get_group_info", _jid(group_jid(group_id))))


@on_holder
def create_group(manager, session_id: str, subject: str, participants: list[str]) -> dict:
    """A new group with the session as its creator; refused participants are listed with why."""
    members = [_jid(normalise_jid(each, "participants")) for each in participants]
    info = _ask(manager, session_id, "create_group", subject, members)
    refused = [_participant_result(row) for row in info.Participants if row.Error]
    return {**group_view(info), "refused": refused}


@on_holder
def update_group(manager, session_id: str, group_id: str, changes: GroupChanges) -> dict:
    """Change the subject, description, announce or locked setting; the group as it is afterwards."""
    target = _jid(group_jid(group_id))
    current = _ask(manager, session_id, "get_group_info", target)  # 404 before any change when not in it
    if changes.subject is not None:
        _ask(manager, session_id, "set_group_name", target, changes.subject)
    if changes.description is not None:
        _ask(manager, session_id, "set_group_topic", target, current.GroupTopic.TopicID, "", changes.description)
    if changes.announce is not None:
        _ask(manager, session_id, "set_group_announce", target, changes.announce)
    if changes.locked is not None:
        _ask(manager, session_id, "set_group_locked", target, changes.locked)
    return group_view(_ask(manager, session_id, "get_group_info", target))


@on_holder
def change_participants(manager, session_id: str, group_id: str, action: str, participants: list[str]) -> list[dict]:
    """add / remove / promote / demote: one result per participant (WhatsApp refuses some)."""
    target = _jid(group_jid(group_id))
    people = [_jid(normalise_jid(each, "participants")) for each in participants]
    _ask(manager, session_id, "get_group_info", target)
    rows = _ask(manager, session_id, "update_group_participants", target, people, ParticipantChange(action))
    return [_participant_result(row) for row in rows]


@on_holder
def invite_link(manager, session_id: str, group_id: str, reset: bool = False) -> str:
    """The group's invite link (admins only); `reset` revokes the old one (GetGroupInviteLink)."""
    return _ask(manager, session_id, "get_group_invite_link", _jid(group_jid(group_id)), reset)


@on_holder
def leave_group(manager, session_id: str, group_id: str) -> None:
    """The session leaves the group (LeaveGroup)."""
    _ask(manager, session_id, "leave_group", _jid(group_jid(group_id)))


def group_view(info) -> dict:
    """A whatsmeow GroupInfo as the API shows it."""
    return {"groupId": jid_str(info.JID), "subject": info.GroupName.Name, "description": info.GroupTopic.Topic,
            "owner": jid_str(info.OwnerPN) or jid_str(info.OwnerJID) or None,
            "settings": {"announce": info.GroupAnnounce.IsAnnounce, "locked": info.GroupLocked.isLocked},
            "participants": [_participant(row) for row in info.Participants if not row.Error]}


def _participant(row) -> dict:
    return {"jid": jid_str(row.PhoneNumber) or jid_str(row.JID), "lid": jid_str(row.LID) or None,
            "isAdmin": row.IsAdmin, "isSuperAdmin": row.IsSuperAdmin}


def _participant_result(row) -> dict:
    """One row of an UpdateGroupParticipants answer: ok, or the error WhatsApp gave for that participant."""
    result = {"jid": jid_str(row.PhoneNumber) or jid_str(row.JID), "ok": not row.Error}
    if row.Error:
        code, message = PARTICIPANT_ERRORS.get(row.Error, ("refused", f"WhatsApp refused it ({row.Error})."))
        result.update(error=code, status=row.Error, message=message)
    return result


def _ask(manager, session_id: str, method: str, *args):
    """Call the session's client; WhatsApp's refusals as hub errors."""
    engine = manager.connected_engine(session_id)
    if engine is None:
        manager.get(session_id)  # 404 for an unknown session
        raise NotConnected(f"Session '{session_id}' is not connected to WhatsApp.")
    try:
        return engine.query(method, *args)
    except EngineError as exc:
        raise _refusal(str(exc)) from exc


def _refusal(text: str) -> HubError:
    lowered = text.lower()
    if any(marker in lowered for marker in NOT_FOUND_TEXTS):
        return NotFound(f"The session is not in that group (WhatsApp: {text}).", code="group_not_found")
    if any(marker in lowered for marker in FORBIDDEN_TEXTS):
        return Forbidden(f"Only the group's admins may do that (WhatsApp: {text}).", code="group_admin_required")
    return Unavailable(f"WhatsApp did not do it: {text}", code="whatsapp_error")


def _jid(address: str):
    user, _, server = address.partition("@")
    return build_jid(user, server)

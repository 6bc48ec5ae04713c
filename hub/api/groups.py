"""Groups of a connected session: list, inspect, create, change, participants, invite link, leave."""
from __future__ import annotations

from typing import Any

from pydantic import Field

from hub.api.common import Model, SessionPath, blueprint, hub, ok
from hub.api.responses import answers, ok_model
from hub.rules import GROUP_ID_PATTERN
from hub.sessions import groups

bp = blueprint("groups", "WhatsApp groups of a session (needs the session connected)")


class GroupPath(SessionPath):
    group_id: str = Field(max_length=64, description="Group JID, e.g. 120363025246125486@g.us",
                          json_schema_extra={"pattern": GROUP_ID_PATTERN})


class CreateGroupBody(Model):
    subject: str = Field(min_length=1, max_length=100, description="The group's name")
    participants: list[str] = Field(min_length=1, max_length=256, description="Phone numbers or JIDs to add")


class UpdateGroupBody(Model):
    subject: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=2048, description="\"\" removes it")
    announce: bool | None = Field(None, description="Only admins can send messages")
    locked: bool | None = Field(None, description="Only admins can change the group's subject and description")


class ParticipantsBody(Model):
    action: str = Field(pattern="^(add|remove|promote|demote)$")
    participants: list[str] = Field(min_length=1, max_length=256, description="Phone numbers or JIDs")


class InviteQuery(Model):
    reset: bool = Field(False, description="Revoke the current link and make a new one")
    model_config = {**Model.model_config, "strict": False}


# Every group route: 404 unknown session or a group the session is not in, 409 not connected,
# 503 WhatsApp did not answer (in time).
GROUP_ERRORS = (404, 409, 503)
GroupAnswer = ok_model("GroupAnswer", group=dict[str, Any])


@bp.get("/sessions/<session_id>/groups",
        responses=answers(ok_model("GroupList", groups=list[dict[str, Any]]), *GROUP_ERRORS))
def list_groups(path: SessionPath):
    """Every group the session is in."""
    return ok(groups=groups.list_groups(hub().sessions, path.session_id))


@bp.post("/sessions/<session_id>/groups", responses=answers({201: GroupAnswer}, *GROUP_ERRORS))
def create_group(path: SessionPath, body: CreateGroupBody):
    """Create a group with the session as its admin; participants WhatsApp refused are listed in `refused`."""
    return ok(group=groups.create_group(hub().sessions, path.session_id, body.subject, body.participants)), 201


@bp.get("/sessions/<session_id>/groups/<group_id>", responses=answers(GroupAnswer, *GROUP_ERRORS))
def get_group(path: GroupPath):
    """Subject, description, owner, participants with admin flags, settings."""
    return ok(group=groups.group_info(hub().sessions, path.session_id, path.group_id))


@bp.patch("/sessions/<session_id>/groups/<group_id>", responses=answers(GroupAnswer, *GROUP_ERRORS))
def update_group(path: GroupPath, body: UpdateGroupBody):
    """Change the subject, description, announce or locked setting (only the fields given)."""
    changes = groups.GroupChanges(body.subject, body.description, body.announce, body.locked)
    return ok(group=groups.update_group(hub().sessions, path.session_id, path.group_id, changes))


@bp.post("/sessions/<session_id>/groups/<group_id>/participants",
         responses=answers(ok_model("ParticipantResults", results=list[dict[str, Any]]), *GROUP_ERRORS))
def change_participants(path: GroupPath, body: ParticipantsBody):
    """Add, remove, promote or demote participants: one result per participant."""
    return ok(results=groups.change_participants(hub().sessions, path.session_id, path.group_id, body.action,
                                                 body.participants))


@bp.get("/sessions/<session_id>/groups/<group_id>/invite-link",
        responses=answers(ok_model("InviteLink", inviteLink=str), *GROUP_ERRORS))
def invite_link(path: GroupPath, query: InviteQuery):
    """The group's invite link (admins only); ?reset=true revokes the old one."""
    return ok(inviteLink=groups.invite_link(hub().sessions, path.session_id, path.group_id, query.reset))


@bp.post("/sessions/<session_id>/groups/<group_id>/leave",
         responses=answers(ok_model("GroupLeft", left=str), *GROUP_ERRORS))
def leave_group(path: GroupPath):
    """The session leaves the group."""
    groups.leave_group(hub().sessions, path.session_id, path.group_id)
    return ok(left=path.group_id)

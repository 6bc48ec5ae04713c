"""Groups of a connected session: list, inspect, create, change, participants, invite link, leave."""
from __future__ import annotations

from pydantic import Field

from hub.api.common import Model, SessionPath, blueprint, hub, ok
from hub.sessions import groups

bp = blueprint("groups", "WhatsApp groups of a session (needs the session connected)")


class GroupPath(SessionPath):
    group_id: str = Field(max_length=64, description="Group JID, e.g. 120363025246125486@g.us")


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


@bp.get("/sessions/<session_id>/groups")
def list_groups(path: SessionPath):
    """Every group the session is in."""
    return ok(groups=groups.list_groups(hub().sessions, path.session_id))


@bp.post("/sessions/<session_id>/groups")
def create_group(path: SessionPath, body: CreateGroupBody):
    """Create a group with the session as its admin; participants WhatsApp refused are listed in `refused`."""
    return ok(group=groups.create_group(hub().sessions, path.session_id, body.subject, body.participants)), 201


@bp.get("/sessions/<session_id>/groups/<group_id>")
def get_group(path: GroupPath):
    """Subject, description, owner, participants with admin flags, settings."""
    return ok(group=groups.group_info(hub().sessions, path.session_id, path.group_id))


@bp.patch("/sessions/<session_id>/groups/<group_id>")
def update_group(path: GroupPath, body: UpdateGroupBody):
    """Change the subject, description, announce or locked setting (only the fields given)."""
    changes = groups.GroupChanges(body.subject, body.description, body.announce, body.locked)
    return ok(group=groups.update_group(hub().sessions, path.session_id, path.group_id, changes))


@bp.post("/sessions/<session_id>/groups/<group_id>/participants")
def change_participants(path: GroupPath, body: ParticipantsBody):
    """Add, remove, promote or demote participants: one result per participant."""
    return ok(results=groups.change_participants(hub().sessions, path.session_id, path.group_id, body.action,
                                                 body.participants))


@bp.get("/sessions/<session_id>/groups/<group_id>/invite-link")
def invite_link(path: GroupPath, query: InviteQuery):
    """The group's invite link (admins only); ?reset=true revokes the old one."""
    return ok(inviteLink=groups.invite_link(hub().sessions, path.session_id, path.group_id, query.reset))


@bp.post("/sessions/<session_id>/groups/<group_id>/leave")
def leave_group(path: GroupPath):
    """The session leaves the group."""
    groups.leave_group(hub().sessions, path.session_id, path.group_id)
    return ok(left=path.group_id)

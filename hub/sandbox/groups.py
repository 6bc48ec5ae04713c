"""Groups on the simulated WhatsApp: the group servers (state in the hub's database) and goneonize's
group functions (`GroupCalls`, a mixin of `Goneonize`).

What is reproduced (whatsmeow `group.go`, goneonize 0.5.2 `main.go`):
- a group query by someone who is not a participant answers 403 (`ErrNotInGroup`, "you're not
  participating in that group"), for a group that does not exist 404 (`ErrGroupNotFound`); changes
  by a participant who lacks the rights answer `info query returned status 403: forbidden`;
- `UpdateGroupParticipants` answers one row per participant, with `Error` set for those WhatsApp
  refused (403: the number's privacy settings do not let you add it; 404: not in the group;
  409: already in it);
- every change reaches every participant's linked devices, the one who made it included, as
  whatsmeow's `events.GroupInfo` (code 22) — or `events.JoinedGroup` (code 21) for a new group —
  queued like messages, so a device that is offline gets it when it connects.
"""
from __future__ import annotations

import ctypes
import os
import time

from neonize.proto import Neonize_pb2 as N
from sqlalchemy import delete, select

from hub.sessions import builders
from hub.sessions.mapping import jid_str
from hub.store.models import utcnow
from hub.store.sandbox import SandboxGroup, SandboxGroupMember, SandboxPrivacy

JOINED_GROUP_CODE, GROUP_INFO_CODE = 21, 22  # neonize's numbers for JoinedGroupEv and GroupInfoEv
NOT_IN_GROUP = "you're not participating in that group"  # whatsmeow ErrNotInGroup (403)
GROUP_NOT_FOUND = "that group does not exist"  # whatsmeow ErrGroupNotFound (404)
FORBIDDEN = "info query returned status 403: forbidden"  # a change without the rights for it
INVITE_UNAUTHORIZED = "you don't have the permission to get the group's invite link"
ROLES = {"promote": "admin", "demote": "member"}
ADMIN_ROLES = ("admin", "superadmin")
INVITE_PREFIX = "https://chat.whatsapp.com/"


class GroupRefused(Exception):
    """WhatsApp refused a group call; the text is whatsmeow's error."""


class GroupServers:
    """The simulated WhatsApp's group servers (hub thread only)."""

    def __init__(self, network):
        self.network = network
        self.store = network.store

    # -- reading ---------------------------------------------------------------------------
    def view(self, group_jid: str, asker: str | None = None) -> dict:
        """A group as whatsmeow's types.GroupInfo (a dict); refused when `asker` is not in it."""
        with self.store.session() as db:
            row = db.get(SandboxGroup, group_jid)
            if row is None:
                raise GroupRefused(GROUP_NOT_FOUND)
            members = {m.phone: m.role for m in db.scalars(select(SandboxGroupMember).where(
                SandboxGroupMember.group_jid == group_jid).order_by(SandboxGroupMember.joined_at))}
            view = _group_view(row, members)
        if asker is not None and asker not in members:
            raise GroupRefused(NOT_IN_GROUP)
        return view

    def joined(self, phone: str) -> list[dict]:
        """Every group `phone` is in (whatsmeow GetJoinedGroups)."""
        with self.store.session() as db:
            jids = db.scalars(select(SandboxGroupMember.group_jid).where(SandboxGroupMember.phone == phone)).all()
        return [self.view(group_jid) for group_jid in sorted(jids)]

    def _admin_view(self, group_jid: str, actor: str, refusal: str = FORBIDDEN) -> dict:
        view = self.view(group_jid, actor)
        if view["members"][actor] not in ADMIN_ROLES:
            raise GroupRefused(refusal)
        return view

    # -- changes -----------------------------------------------------------------------------
    def create(self, creator: str, subject: str, phones: list[str], create_key: str) -> tuple[dict, list[dict]]:
        """A new group: the creator is its superadmin; numbers whose privacy refuses stay out (403)."""
        if not subject.strip() or len(subject) > 100:
            raise GroupRefused("info query returned status 406: not-acceptable")
        group_jid = f"120363{int.from_bytes(os.urandom(6), 'big') % 10**12:012d}@g.us"
        refused = [{"phone": phone, "error": 403} for phone in phones if self._refuses_add(phone)]
        added = [phone for phone in dict.fromkeys(phones) if phone != creator and not self._refuses_add(phone)]
        with self.store.session() as db:
            db.add(SandboxGroup(jid=group_jid, subject=subject, subject_by=creator, owner=creator, description="",
                                description_id="", invite_code=_invite_code()))
            db.add(SandboxGroupMember(group_jid=group_jid, phone=creator, role="superadmin"))
            for phone in added:
                db.add(SandboxGroupMember(group_jid=group_jid, phone=phone, role="member"))
        view = self.view(group_jid)
        event = N.JoinedGroup(Reason="", Type="new", CreateKey=create_key, GroupInfo=group_info(view, self.network),
                              Sender=builders.jid(_phone_jid(creator)), SenderPN=builders.jid(_phone_jid(creator)))
        self._notify(view["members"], JOINED_GROUP_CODE, event)
        return view, refused

    def rename(self, group_jid: str, actor: str, subject: str) -> None:
        """whatsmeow SetGroupName: any participant, unless the group is locked (admins only)."""
        view = self._editable(group_jid, actor)
        if not subject.strip() or len(subject) > 100:
            raise GroupRefused("info query returned status 406: not-acceptable")
        self._update(group_jid, subject=subject, subject_by=actor)
        name = N.GroupName(Name=subject, NameSetAt=int(time.time()), NameSetBy=builders.jid(_phone_jid(actor)))
        self._notify(view["members"], GROUP_INFO_CODE, self._info_event(group_jid, actor, Name=name))

    def describe(self, group_jid: str, actor: str, previous_id: str, new_id: str, text: str) -> None:
        """whatsmeow SetGroupTopic (the description): as a rename; previous_id must be the current one."""
        view = self._editable(group_jid, actor)
        if previous_id and previous_id != view["descriptionId"]:
            raise GroupRefused("info query returned status 409: conflict")
        self._update(group_jid, description=text, description_id=new_id)
        topic = N.GroupTopic(Topic=text, TopicID=new_id, TopicSetAt=int(time.time()),
                             TopicSetBy=builders.jid(_phone_jid(actor)), TopicDeleted=not text)
        self._notify(view["members"], GROUP_INFO_CODE, self._info_event(group_jid, actor, Topic=topic))

    def configure(self, group_jid: str, actor: str, setting: str, value: bool) -> None:
        """whatsmeow SetGroupAnnounce / SetGroupLocked: admins only."""
        view = self._admin_view(group_jid, actor)
        self._update(group_jid, **{setting: value})
        change = {"Announce": N.GroupAnnounce(IsAnnounce=value, AnnounceVersionID=_version())} \
            if setting == "announce" else {"Locked": N.GroupLocked(isLocked=value)}
        self._notify(view["members"], GROUP_INFO_CODE, self._info_event(group_jid, actor, **change))

    def participants(self, group_jid: str, actor: str, phones: list[str], action: str) -> list[dict]:
        """whatsmeow UpdateGroupParticipants: admins only; one result per number (`error` when refused)."""
        view = self._admin_view(group_jid, actor)
        results = [{"phone": phone, "error": self._refusal(view, phone, action)} for phone in dict.fromkeys(phones)]
        changed = [row["phone"] for row in results if not row["error"]]
        if changed:
            self._apply_participants(group_jid, changed, action)
            audience = set(view["members"]) | set(changed)  # the removed learn it too, the added for the first time
            field = {"add": "Join", "remove": "Leave", "promote": "Promote", "demote": "Demote"}[action]
            event = self._info_event(group_jid, actor, **{field: [builders.jid(_phone_jid(p)) for p in changed]})
            self._notify(audience, GROUP_INFO_CODE, event)
        return results

    def invite_link(self, group_jid: str, actor: str, reset: bool) -> str:
        """whatsmeow GetGroupInviteLink: admins only (401 otherwise); `reset` revokes the old link."""
        view = self._admin_view(group_jid, actor, INVITE_UNAUTHORIZED)
        code = view["inviteCode"]
        if reset:
            code = _invite_code()
            self._update(group_jid, invite_code=code)
            self._notify(view["members"], GROUP_INFO_CODE,
                         self._info_event(group_jid, actor, NewInviteLink=INVITE_PREFIX + code))
        return INVITE_PREFIX + code

    def leave(self, group_jid: str, actor: str) -> None:
        """whatsmeow LeaveGroup: the participant leaves; everyone (the leaver included) is told."""
        view = self.view(group_jid, actor)
        self._apply_participants(group_jid, [actor], "remove")
        event = self._info_event(group_jid, actor, Leave=[builders.jid(_phone_jid(actor))])
        self._notify(view["members"], GROUP_INFO_CODE, event)

    def set_privacy(self, phone: str, group_add: str) -> None:
        """A simulated number's "who can add me to groups" (all, none)."""
        with self.store.session() as db:
            row = db.get(SandboxPrivacy, phone) or SandboxPrivacy(phone=phone)
            row.group_add = group_add
            db.add(row)

    def member_phones(self, group_jid: str) -> list[str]:
        """The numbers in a group (where a message to it goes)."""
        with self.store.session() as db:
            return list(db.scalars(select(SandboxGroupMember.phone).where(SandboxGroupMember.group_jid == group_jid)))

    # -- internals ---------------------------------------------------------------------------
    def _editable(self, group_jid: str, actor: str) -> dict:
        view = self.view(group_jid, actor)
        if view["locked"] and view["members"][actor] not in ADMIN_ROLES:
            raise GroupRefused(FORBIDDEN)
        return view

    def _refusal(self, view: dict, phone: str, action: str) -> int:
        """The error WhatsApp answers for one participant (0: done)."""
        present = phone in view["members"]
        if action == "add":
            return 409 if present else 403 if self._refuses_add(phone) else 0
        if not present:
            return 404
        return 406 if view["members"][phone] == "superadmin" and action != "promote" else 0

    def _refuses_add(self, phone: str) -> bool:
        with self.store.session() as db:
            row = db.get(SandboxPrivacy, phone)
            return row is not None and row.group_add == "none"

    def _apply_participants(self, group_jid: str, phones: list[str], action: str) -> None:
        with self.store.session() as db:
            if action == "remove":
                db.execute(delete(SandboxGroupMember).where(SandboxGroupMember.group_jid == group_jid,
                                                            SandboxGroupMember.phone.in_(phones)))
            for phone in phones if action != "remove" else ():
                row = db.get(SandboxGroupMember, (group_jid, phone)) or SandboxGroupMember(group_jid=group_jid,
                                                                                           phone=phone)
                row.role = ROLES.get(action, "member")
                db.add(row)
        self._update(group_jid)

    def _update(self, group_jid: str, **values) -> None:
        with self.store.session() as db:
            row = db.get(SandboxGroup, group_jid)
            for name, value in {**values, "changed_at": utcnow()}.items():
                setattr(row, name, value)

    def _info_event(self, group_jid: str, actor: str, **change) -> N.GroupInfoEvent:
        """whatsmeow events.GroupInfo for one change (goneonize EncodeGroupInfoEvent)."""
        return N.GroupInfoEvent(JID=builders.jid(group_jid), Notify="", Sender=builders.jid(_phone_jid(actor)),
                                Timestamp=int(time.time()), PrevParticipantsVersionID="",
                                ParticipantVersionID=_version(), JoinReason="", **change)

    def _notify(self, phones, code: int, event) -> None:
        """Queue the event for every linked device of every number in `phones`."""
        payload = event.SerializeToString()
        for phone in phones:
            for device in self.network.devices_of(phone):
                self.network.enqueue(device["jid"], code, builders.new_message_id(), payload)


def group_info(view: dict, network) -> N.GroupInfo:
    """A group view as goneonize's EncodeGroupInfo (every proto2 field set)."""
    from hub.sandbox.network import lid_of  # noqa: PLC0415 (network imports this module)

    owner = builders.jid(_phone_jid(view["owner"]))
    participants = [N.GroupParticipant(JID=builders.jid(_phone_jid(phone)), LID=builders.jid(f"{lid_of(phone)}@lid"),
                                       PhoneNumber=builders.jid(_phone_jid(phone)), IsAdmin=role in ADMIN_ROLES,
                                       IsSuperAdmin=role == "superadmin", DisplayName="", Error=0)
                    for phone, role in view["members"].items()]
    return N.GroupInfo(
        OwnerJID=owner, JID=builders.jid(view["jid"]), OwnerPN=owner,
        GroupName=N.GroupName(Name=view["subject"], NameSetAt=view["changedAt"],
                              NameSetBy=builders.jid(_phone_jid(view["subjectBy"]))),
        GroupTopic=N.GroupTopic(Topic=view["description"], TopicID=view["descriptionId"], TopicSetAt=0,
                                TopicSetBy=builders.jid(None), TopicDeleted=False),
        GroupLocked=N.GroupLocked(isLocked=view["locked"]),
        GroupAnnounce=N.GroupAnnounce(IsAnnounce=view["announce"], AnnounceVersionID=""),
        GroupEphemeral=N.GroupEphemeral(IsEphemeral=False, DisappearingTimer=0),
        GroupIncognito=N.GroupIncognito(IsIncognito=False),
        GroupParent=N.GroupParent(IsParent=False, DefaultMembershipApprovalMode=""),
        GroupLinkedParent=N.GroupLinkedParent(LinkedParentJID=builders.jid(None)),
        GroupIsDefaultSub=N.GroupIsDefaultSub(IsDefaultSubGroup=False),
        GroupCreated=view["createdAt"], ParticipantVersionID=_version(), Participants=participants)


class GroupCalls:
    """goneonize's group functions for `Goneonize` (needs its `_call`, `_on_hub`, `clients`, `network`)."""

    def CreateGroup(self, uuid, request, size):
        """goneonize `CreateGroup` → GetGroupInfoReturnFunction (whatsmeow `Client.CreateGroup`)."""
        wanted = N.ReqCreateGroup.FromString(bytes(request[:size]))
        phones = [participant.User for participant in wanted.Participants]

        def create(connection):
            view, refused = self._on_hub(self.network.groups.create, _own(connection), wanted.name, phones,
                                         wanted.CreateKey)
            info = group_info(view, self.network)
            info.Participants.extend(_participant_row(row) for row in refused)  # with their Error, as WhatsApp does
            return N.GetGroupInfoReturnFunction(GroupInfo=info)
        return self._group_reply(uuid, N.GetGroupInfoReturnFunction, create)

    def GetJoinedGroups(self, uuid):
        """goneonize `GetJoinedGroups` → GetJoinedGroupsReturnFunction."""
        def joined(connection):
            views = self._on_hub(self.network.groups.joined, _own(connection))
            return N.GetJoinedGroupsReturnFunction(Group=[group_info(view, self.network) for view in views])
        return self._group_reply(uuid, N.GetJoinedGroupsReturnFunction, joined)

    def GetGroupInfo(self, uuid, jid, size):
        """goneonize `GetGroupInfo` → GetGroupInfoReturnFunction (403 ErrNotInGroup, 404 ErrGroupNotFound)."""
        group_jid = _jid(jid, size)

        def info(connection):
            view = self._on_hub(self.network.groups.view, group_jid, _own(connection))
            return N.GetGroupInfoReturnFunction(GroupInfo=group_info(view, self.network))
        return self._group_reply(uuid, N.GetGroupInfoReturnFunction, info)

    def SetGroupName(self, uuid, jid, size, name):
        """goneonize `SetGroupName` → error string (whatsmeow `Client.SetGroupName`)."""
        return self._group_string(uuid, "rename", _jid(jid, size), _text(name))

    def SetGroupTopic(self, uuid, jid, size, previous_id, new_id, topic):
        """goneonize `SetGroupTopic` → error string (the description; whatsmeow `Client.SetGroupTopic`)."""
        return self._group_string(uuid, "describe", _jid(jid, size), _text(previous_id),
                                  _text(new_id) or builders.new_message_id(), _text(topic))

    def SetGroupAnnounce(self, uuid, jid, size, announce):
        """goneonize `SetGroupAnnounce` → error string (only admins may send when on)."""
        return self._group_string(uuid, "configure", _jid(jid, size), "announce", bool(announce))

    def SetGroupLocked(self, uuid, jid, size, locked):
        """goneonize `SetGroupLocked` → error string (only admins may edit the group's info when on)."""
        return self._group_string(uuid, "configure", _jid(jid, size), "locked", bool(locked))

    def LeaveGroup(self, uuid, jid, size):
        """goneonize `LeaveGroup` → error string."""
        return self._group_string(uuid, "leave", _jid(jid, size))

    def UpdateGroupParticipants(self, uuid, jid, size, changes, changes_size, action):
        """goneonize `UpdateGroupParticipants` → UpdateGroupParticipantsReturnFunction, a row per participant."""
        group_jid, kind = _jid(jid, size), _text(action)
        phones = [each.User for each in N.JIDArray.FromString(bytes(changes[:changes_size])).JIDS]

        def update(connection):
            rows = self._on_hub(self.network.groups.participants, group_jid, _own(connection), phones, kind)
            return N.UpdateGroupParticipantsReturnFunction(participants=[_participant_row(row) for row in rows])
        return self._group_reply(uuid, N.UpdateGroupParticipantsReturnFunction, update)

    def GetGroupInviteLink(self, uuid, jid, size, revoke):
        """goneonize `GetGroupInviteLink` → GetGroupInviteLinkReturnFunction (`revoke` resets it)."""
        group_jid = _jid(jid, size)

        def link(connection):
            url = self._on_hub(self.network.groups.invite_link, group_jid, _own(connection), bool(revoke))
            return N.GetGroupInviteLinkReturnFunction(InviteLink=url)
        return self._group_reply(uuid, N.GetGroupInviteLinkReturnFunction, link)

    # -- helpers ---------------------------------------------------------------------------
    def _group_reply(self, uuid, reply_type, work):
        """`_call` with WhatsApp's refusals as the reply's Error."""
        def guarded(connection):
            try:
                return work(connection)
            except GroupRefused as refusal:
                return reply_type(Error=str(refusal))
        return self._call(uuid, reply_type, guarded)

    def _group_string(self, uuid, change: str, *args) -> bytes:
        """A goneonize call that answers an error string ('' when it worked)."""
        connection = self.clients.get(uuid.decode())
        if connection is None or not connection.connected:
            return b"websocket not connected"
        try:
            self._on_hub(getattr(self.network.groups, change), args[0], _own(connection), *args[1:])
        except GroupRefused as refusal:
            return str(refusal).encode()
        return b""


def _participant_row(row: dict) -> N.GroupParticipant:
    """whatsmeow parseParticipant for one row of an UpdateGroupParticipants answer."""
    from hub.sandbox.network import lid_of  # noqa: PLC0415

    address = builders.jid(_phone_jid(row["phone"]))
    return N.GroupParticipant(JID=address, LID=builders.jid(f"{lid_of(row['phone'])}@lid"), PhoneNumber=address,
                              IsAdmin=False, IsSuperAdmin=False, DisplayName="", Error=row["error"])


def _group_view(row: SandboxGroup, members: dict[str, str]) -> dict:
    return {"jid": row.jid, "subject": row.subject, "subjectBy": row.subject_by, "description": row.description,
            "descriptionId": row.description_id, "owner": row.owner, "announce": row.announce, "locked": row.locked,
            "inviteCode": row.invite_code, "createdAt": int(row.created_at.timestamp()),
            "changedAt": int(row.changed_at.timestamp()), "members": members}


def _own(connection) -> str:
    """The number of a connection's device ('51999…:2@s.whatsapp.net' -> '51999…')."""
    return connection.device.split(":")[0].split("@")[0]


def _phone_jid(phone: str) -> str:
    return f"{phone}@s.whatsapp.net"


def _jid(data, size) -> str:
    return jid_str(N.JID.FromString(bytes(data[:size])))


def _text(value) -> str:
    """A C string argument as neonize passes it (bytes, or a ctypes string buffer)."""
    if isinstance(value, ctypes.Array):
        value = value.value
    return value.decode() if isinstance(value, bytes) else str(value or "")


def _version() -> str:
    return str(int(time.time() * 1000))


def _invite_code() -> str:
    return os.urandom(16).hex()[:22]

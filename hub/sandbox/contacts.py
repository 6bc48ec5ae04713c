"""The simulated WhatsApp's contacts: a registry of numbers (who exists, their profile, their LID),
goneonize's contact and call functions over it, and calls from the phone side.

Every number is on WhatsApp unless the registry says otherwise (`PUT /api/sandbox/contacts/<phone>`);
a number's LID is the registry's, or the simulated one (`network.lid_of`). The registry counts what
it served, so a test can see whether the hub asked WhatsApp or answered from its cache.
"""
from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from functools import cached_property

from neonize.proto import Neonize_pb2 as N
from sqlalchemy import select

from hub.sandbox.network import lid_of
from hub.sessions import builders
from hub.sessions.mapping import jid_str
from hub.store.contacts import SandboxContact

CALL_OFFER_CODE = 36  # neonize's number for CallOfferEv (goneonize main.go: subscribers[36])
DEFAULT_ABOUT = "Hey there! I am using WhatsApp."
NO_PICTURE = "that user has no profile picture"  # whatsmeow ErrProfilePictureNotSet


class ContactRegistry:
    """The simulated numbers' profiles (hub thread: the rows live in the hub's database)."""

    def __init__(self, network):
        self.network = network
        self.served: Counter = Counter()  # (function, phone) -> times WhatsApp answered it
        self._lids: dict[str, str] = {}  # LID user -> phone, for every LID handed out

    def put(self, phone: str, fields: dict) -> dict:
        """Create or change a number's profile (only the fields given)."""
        with self.network.store.session() as db:
            row = db.get(SandboxContact, phone) or SandboxContact(phone=phone, exists=True, is_business=False)
            for key, value in fields.items():
                setattr(row, key, value)
            db.add(row)
        return self.profile(phone)

    def profile(self, phone: str) -> dict:
        """What WhatsApp knows of `phone` (the defaults for a number nobody registered)."""
        return self.profiles([phone])[0]

    def profiles(self, phones: list[str]) -> list[dict]:
        """`profile` of each number, with one query (a check asks for up to 50 at once)."""
        with self.network.store.session() as db:
            found = db.scalars(select(SandboxContact).where(SandboxContact.phone.in_(phones)))
            rows = {row.phone: row for row in found}
        return [self._profile_of(phone, rows.get(phone)) for phone in phones]

    def _profile_of(self, phone: str, row: SandboxContact | None) -> dict:
        devices = self.network.devices_of(phone)
        lid = (row.lid if row and row.lid else None) or (devices[0]["lid"] if devices else f"{lid_of(phone)}@lid")
        self._lids[lid.split("@")[0]] = phone
        return {"phone": phone, "exists": row.exists if row else True, "lid": lid,
                "pushName": (row.push_name if row else None) or (devices[0]["pushName"] if devices else None),
                "about": row.about if row and row.about is not None else DEFAULT_ABOUT,
                "isBusiness": bool(row and row.is_business)}

    def phone_of_lid(self, lid_user: str) -> str | None:
        """The number behind a LID the servers handed out (or a registered one)."""
        if lid_user not in self._lids:
            with self.network.store.session() as db:
                phone = db.scalar(select(SandboxContact.phone).where(SandboxContact.lid == f"{lid_user}@lid"))
            if phone:
                self._lids[lid_user] = phone
        return self._lids.get(lid_user)

    def count(self, function: str, phone: str) -> None:
        self.served[(function, phone)] += 1

    def served_for(self, phone: str) -> dict:
        return {function: n for (function, number), n in self.served.items() if number == phone}


class ContactFunctions:
    """goneonize's contact, LID and call functions; mixed into `Goneonize` (hub.sandbox.library)."""

    @cached_property
    def registry(self) -> ContactRegistry:
        return ContactRegistry(self.network)

    @cached_property
    def call_log(self) -> dict[str, dict]:
        """Calls offered to sandbox sessions, by call id: what the caller's phone saw."""
        return {}

    def _profile(self, phone: str, function: str) -> dict:
        return self._profiles([phone], function)[0]

    def _profiles(self, phones: list[str], function: str) -> list[dict]:
        for phone in phones:
            self.registry.count(function, phone)
        return self.registry.profiles(phones)

    def IsOnWhatsApp(self, uuid, numbers, size=None):
        """goneonize `IsOnWhatsApp(id, numbers)` → IsOnWhatsAppReturnFunction (whatsmeow `Client.IsOnWhatsApp`).

        `numbers` is one space-separated C string ("+51987654321 +51..."); each answer echoes its
        query and carries the JID also for a number that is not on WhatsApp (IsIn false).
        """
        def check(connection):
            queries = numbers.decode().split()
            profiles = self._on_hub(self._profiles, [query.lstrip("+") for query in queries], "IsOnWhatsApp")
            answers = [N.IsOnWhatsAppResponse(Query=query, JID=builders.jid(f"{profile['phone']}@s.whatsapp.net"),
                                              IsIn=profile["exists"])
                       for query, profile in zip(queries, profiles, strict=True)]
            return N.IsOnWhatsAppReturnFunction(IsOnWhatsAppResponse=answers)
        return self._call(uuid, N.IsOnWhatsAppReturnFunction, check)

    def GetUserInfo(self, uuid, jids, size):
        """goneonize `GetUserInfo(id, JIDArray)` → GetUserInfoReturnFunction (whatsmeow `Client.GetUserInfo`).

        Numbers that are not on WhatsApp are left out of the answer, as the usync query leaves them.
        A business gets a VerifiedName (its certificate's details: the business name).
        """
        wanted = N.JIDArray.FromString(bytes(jids[:size])).JIDS

        def info(connection):
            users = []
            for jid in wanted:
                profile = self._on_hub(self._profile, jid.User, "GetUserInfo")
                if profile["exists"]:
                    users.append(N.GetUserInfoSingleReturnFunction(JID=jid, UserInfo=_user_info(profile)))
            return N.GetUserInfoReturnFunction(UsersInfo=users)
        return self._call(uuid, N.GetUserInfoReturnFunction, info)

    def GetProfilePicture(self, uuid, jid, jid_size, params, params_size):
        """goneonize `GetProfilePicture` → GetProfilePictureReturnFunction (whatsmeow `GetProfilePictureInfo`).

        A number that is not on WhatsApp answers whatsmeow's ErrProfilePictureNotSet.
        """
        target = N.JID.FromString(bytes(jid[:jid_size]))

        def picture(connection):
            profile = self._on_hub(self._profile, target.User, "GetProfilePicture")
            if not profile["exists"]:
                return N.GetProfilePictureReturnFunction(Error=NO_PICTURE)
            picture_id = hashlib.sha256(target.User.encode()).hexdigest()[:16]
            return N.GetProfilePictureReturnFunction(Picture=N.ProfilePictureInfo(
                URL=f"https://pps.whatsapp.net/v/t61.24694-24/{picture_id}.jpg", ID=picture_id, Type="image",
                DirectPath=f"/v/t61.24694-24/{picture_id}.jpg", Hash=b""))
        return self._call(uuid, N.GetProfilePictureReturnFunction, picture)

    def GetContact(self, uuid, user, size):
        """goneonize `GetContact` (contact_store.go) → ContactsGetContactReturnFunction: the push name the
        device's contact store holds (here: the registry's)."""
        target = N.JID.FromString(bytes(user[:size]))
        profile = self._on_hub(self._profile, target.User, "GetContact")
        info = N.ContactInfo(Found=bool(profile["pushName"]), FirstName="", FullName="",
                             PushName=profile["pushName"] or "", BusinessName="", RedactedPhone="")
        return N.ContactsGetContactReturnFunction(ContactInfo=info).SerializeToString()

    def GetPNFromLID(self, uuid, jid, size):
        """goneonize `GetPNFromLID` (whatsmeow's LID store): the phone JID of a LID the servers know."""
        lid = N.JID.FromString(bytes(jid[:size]))
        device = self._on_hub(self.network.device_by_lid, lid.User)
        phone = device["phone"] if device else self._on_hub(self.registry.phone_of_lid, lid.User)
        found = builders.jid(f"{phone}@s.whatsapp.net" if phone else None)
        return N.GetJIDFromStoreReturnFunction(Jid=found).SerializeToString()

    def GetLIDFromPN(self, uuid, jid, size):
        """goneonize `GetLIDFromPN`: the LID of a phone JID (every simulated number has one)."""
        phone = N.JID.FromString(bytes(jid[:size]))
        profile = self._on_hub(self.registry.profile, phone.User)
        found = builders.jid(profile["lid"] if profile["exists"] else None)
        return N.GetJIDFromStoreReturnFunction(Jid=found).SerializeToString()

    def RejectCall(self, uuid, jid, jid_size, call_id):
        """goneonize `RejectCall(id, callFrom, callID)` → C string error (whatsmeow `Client.RejectCall`:
        a <call><reject call-id call-creator count=0/></call> node to the caller)."""
        connection = self.clients.get(uuid.decode())
        if connection is None or not connection.connected:
            return b"websocket not connected"
        caller = jid_str(N.JID.FromString(bytes(jid[:jid_size])))
        call = self.call_log.get(call_id.value.decode() if hasattr(call_id, "value") else call_id.decode())
        if call is None or call["session"] != connection.uuid:
            return b"server returned error 404"
        call.update(state="rejected", rejectedTo=caller, rejectedAt=time.time())
        return b""

    # -- the phone side ------------------------------------------------------------------
    def offer_call(self, connection, caller_phone: str, video: bool) -> dict:
        """A contact calls the session: whatsmeow dispatches events.CallOffer (the <offer> node as Data)."""
        call_id = os.urandom(16).hex().upper()
        caller = f"{caller_phone}@s.whatsapp.net"
        profile = self.registry.profile(caller_phone)
        media = [N.Node(Tag="audio", Attrs=[N.NodeAttrs(name="enc", text="opus")], Nil=True)]
        if video:
            media.append(N.Node(Tag="video", Attrs=[N.NodeAttrs(name="enc", text="vp8")], Nil=True))
        offer = N.CallOffer(
            basicCallMeta=N.BasicCallMeta(**{"from": builders.jid(caller)}, timestamp=int(time.time()),
                                          callCreator=builders.jid(caller),
                                          callCreatorAlt=builders.jid(profile["lid"]), callID=call_id),
            callRemoteMeta=N.CallRemoteMeta(remotePlatform="android", remoteVersion="2.24.1"),
            data=N.Node(Tag="offer", Attrs=[N.NodeAttrs(name="call-id", text=call_id)], Nodes=media))
        call = {"callId": call_id, "session": connection.uuid, "from": caller, "video": video, "state": "offered",
                "offeredAt": time.time()}
        self.call_log[call_id] = call
        self.push(connection, CALL_OFFER_CODE, offer)
        return call


def _user_info(profile: dict):
    """whatsmeow's types.UserInfo (goneonize EncodeUserInfo): about text, picture id, business name."""
    info = N.UserInfo(Status=profile["about"], PictureID=hashlib.sha256(profile["phone"].encode()).hexdigest()[:16])
    if profile["isBusiness"]:
        from neonize.proto.waVnameCert import WAWebProtobufsVnameCert_pb2 as V

        details = V.VerifiedNameCertificate.Details(verifiedName=profile["pushName"] or profile["phone"])
        info.VerifiedName.CopyFrom(N.VerifiedName(Details=details))
    return info

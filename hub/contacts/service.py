"""Number checks (IsOnWhatsApp) and contact look-ups (GetUserInfo, GetProfilePicture, GetContact).

Each asks WhatsApp through the session's engine (the control pool, with its deadline). A check
stores its answers (`contact_checks`) so the send API can refuse a number found not on WhatsApp;
both store the LIDs WhatsApp revealed. Look-ups are cached per session for HUB_CONTACT_CACHE_TTL.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import delete, select

from hub.cluster.commands import on_holder
from hub.contacts.numbers import phone_digits
from hub.context import HubContext
from hub.errors import BadRequest, HubError, NotFound, Unavailable
from hub.sessions.engine import EngineError, NotConnected
from hub.sessions.jids import normalise_jid
from hub.store.contacts import ContactCheck
from hub.store.models import insert_all, utcnow

MAX_CHECK = 50  # numbers per check (WhatsApp's usync queries are batched; a bigger list is a 400)
ABSENT_FOR = timedelta(hours=24)  # a check that found no account refuses sends for this long


def install(context: HubContext) -> None:
    """A deleted session's checks go with it (a new session of that id starts with none)."""
    def forget_checks(db, session_id: str) -> None:
        """SessionManager.on_delete callback: the session's number checks, stored and in memory."""
        db.execute(delete(ContactCheck).where(ContactCheck.session_id == session_id))
        absent_numbers(context).forget(session_id)
    context.sessions.on_delete.append(forget_checks)


@on_holder
def check(context: HubContext, session_id: str, inputs: list) -> list[dict]:
    """One row per input: {input, exists, jid, lid}, or {input, error} for one that is not a number."""
    if len(inputs) > MAX_CHECK:
        raise BadRequest(f"Check at most {MAX_CHECK} numbers per request ({len(inputs)} given).",
                         code="too_many_numbers")
    engine = connected_engine(context, session_id)
    parsed = [_parsed(value) for value in inputs]
    digits = list(dict.fromkeys(number for number in parsed if not isinstance(number, HubError)))
    found = _ask(context, engine, digits) if digits else {}
    _store_checks(context, session_id, found.values())
    return [{"input": value, "error": number.code, "message": number.message} if isinstance(number, HubError)
            else {"input": value, **found[number]} for value, number in zip(inputs, parsed, strict=True)]


def _parsed(value) -> str | HubError:
    try:
        return phone_digits(value)
    except HubError as exc:
        return exc


def connected_engine(context: HubContext, session_id: str):
    """The session's engine: 404 for an unknown session, 409 when it is not connected."""
    context.sessions.peek(session_id)
    engine = context.sessions.connected_engine(session_id)
    if engine is None:
        raise NotConnected(f"Session '{session_id}' is not connected to WhatsApp.")
    return engine


def _ask(context: HubContext, engine, digits: list[str]) -> dict[str, dict]:
    """WhatsApp's answer per number: exists, the phone JID, and its LID when it has an account."""
    answers = _engine_call(engine, "is_on_whatsapp", *[f"+{number}" for number in digits])
    found = {answer.Query.lstrip("+"): {"exists": bool(answer.IsIn), "lid": None,
                                        "jid": f"{answer.JID.User or answer.Query.lstrip('+')}@s.whatsapp.net"}
             for answer in answers}
    lids = context.sessions.lids
    lids.preload([row["jid"] for row in found.values() if row["exists"]])
    for row in found.values():
        if row["exists"]:
            row["lid"] = lids.lid_of(row["jid"]) or _lid_from_whatsapp(engine, row["jid"])
    lids.remember_many([(row["lid"], row["jid"]) for row in found.values()], "check")
    for number in digits:  # WhatsApp answers every query; a number it left out counts as unknown
        found.setdefault(number, {"exists": False, "jid": f"{number}@s.whatsapp.net", "lid": None})
    return found


def lid_of(context: HubContext, engine, jid: str) -> str | None:
    """The LID of a phone JID: a stored mapping, else whatsmeow's (GetLIDFromPN), then stored."""
    known = context.sessions.lids.lid_of(jid)
    if known:
        return known
    lid = _lid_from_whatsapp(engine, jid)
    context.sessions.lids.remember(lid, jid, "lookup")
    return lid


def _lid_from_whatsapp(engine, jid: str) -> str | None:
    """whatsmeow's LID for a phone JID (GetLIDFromPN), or None."""
    from neonize.utils.jid import build_jid

    user, _, server = jid.partition("@")
    try:
        found = _engine_call(engine, "get_lid_from_pn", build_jid(user, server))
    except HubError:
        return None
    return f"{found.User}@lid" if found.User else None


def _engine_call(engine, method: str, *args):
    """An engine call; WhatsApp's refusal or a stuck call is a 503 the caller can retry."""
    try:
        return engine.call(method, *args)
    except EngineError as exc:
        raise Unavailable(f"WhatsApp did not answer: {exc}", code="whatsapp_error") from exc


def _store_checks(context: HubContext, session_id: str, rows) -> None:
    """Remember each answer (the latest per session and number), in the database and this process's index."""
    now, rows = utcnow(), list(rows)
    checks = [ContactCheck(session_id=session_id, phone=row["jid"].split("@")[0], exists=row["exists"],
                           jid=row["jid"], lid=row["lid"], checked_at=now) for row in rows]
    with context.store.session() as db:  # two statements for the whole check, not one per number
        db.execute(delete(ContactCheck).where(ContactCheck.session_id == session_id,
                                              ContactCheck.phone.in_([check.phone for check in checks])))
        insert_all(db, checks)
    absent = absent_numbers(context)
    for row in rows:
        absent.record(session_id, row["jid"].split("@")[0], row["exists"], now)


def found_absent(context: HubContext, session_id: str, to_jid: str) -> bool:
    """Whether a check of this session found `to_jid`'s number not on WhatsApp in the last 24 h."""
    if not to_jid.endswith("@s.whatsapp.net"):
        return False
    return absent_numbers(context).contains(session_id, to_jid.split("@")[0])


class AbsentNumbers:
    """The numbers checks found not on WhatsApp in the last 24 h, by session: what every send asks.

    A dict lookup instead of a query per send (a query would cost a third of a queued send). It is
    read from the database at first use and again every `reload_after` seconds, so checks made by
    the other processes of a cluster count within that time; this process's checks count at once.
    """

    def __init__(self, store, reload_after: float = 30.0, clock=time.monotonic):
        self.store, self.reload_after, self.clock = store, reload_after, clock
        self._found: dict[tuple[str, str], object] = {}  # (session, phone) -> when a check found it absent
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def contains(self, session_id: str, phone: str) -> bool:
        if self._loaded_at is None or self.clock() - self._loaded_at >= self.reload_after:
            self.reload()
        found_at = self._found.get((session_id, phone))
        return found_at is not None and found_at > utcnow() - ABSENT_FOR

    def record(self, session_id: str, phone: str, exists: bool, at) -> None:
        with self._lock:
            if exists:
                self._found.pop((session_id, phone), None)
            else:
                self._found[(session_id, phone)] = at

    def forget(self, session_id: str) -> None:
        """A deleted session's answers."""
        with self._lock:
            self._found = {key: at for key, at in self._found.items() if key[0] != session_id}

    def reload(self) -> None:
        """Every absent answer of the last 24 h, from the database (one query)."""
        with self.store.session() as db:
            rows = db.execute(select(ContactCheck.session_id, ContactCheck.phone, ContactCheck.checked_at).where(
                ContactCheck.exists.is_(False), ContactCheck.checked_at > utcnow() - ABSENT_FOR)).all()
        with self._lock:
            self._found = {(session_id, phone): at for session_id, phone, at in rows}
            self._loaded_at = self.clock()


# -- look-ups ----------------------------------------------------------------------------
class ProfileCache:
    """Contact profiles by (session, JID) for `ttl` seconds (a CRM refresh must not ask WhatsApp per row)."""

    def __init__(self, ttl: float, clock=time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[tuple[str, str], tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> dict | None:
        entry = self._entries.get(key)
        if entry is None or self.clock() - entry[0] >= self.ttl:
            return None
        return entry[1]

    def put(self, key: tuple[str, str], profile: dict) -> None:
        with self._lock:
            if len(self._entries) > 10_000:  # bounded: drop the lot rather than grow forever
                self._entries.clear()
            self._entries[key] = (self.clock(), profile)


_caches: dict[int, ProfileCache] = {}
_absent: dict[int, AbsentNumbers] = {}


def cache_of(context: HubContext) -> ProfileCache:
    """The look-up cache of this hub (one per context)."""
    found = _caches.get(id(context))
    if found is None or found.ttl != context.config.contact_cache_ttl:
        found = _caches[id(context)] = ProfileCache(context.config.contact_cache_ttl)
    return found


def absent_numbers(context: HubContext) -> AbsentNumbers:
    """The absent-number index of this hub (one per context)."""
    found = _absent.get(id(context))
    if found is None or found.store is not context.store:
        found = _absent[id(context)] = AbsentNumbers(context.store)
    return found


@on_holder
def lookup(context: HubContext, session_id: str, phone_or_jid: str) -> dict:
    """{jid, lid, phone, pushName, about, pictureUrl, isBusiness}; 404 when the number is not on WhatsApp."""
    context.sessions.peek(session_id)  # 404 for an unknown session; a cached profile needs no connection
    jid = _phone_jid(context, session_id, phone_or_jid)
    cache = cache_of(context)
    profile = cache.get((session_id, jid))
    if profile is None:
        profile = _profile(context, session_id, jid)
        cache.put((session_id, jid), profile)
    return dict(profile)


def _phone_jid(context: HubContext, session_id: str, value: str) -> str:
    """The phone JID to look up: a number, a phone JID, or a LID whose phone is known (stored, or whatsmeow's)."""
    if value.endswith("@lid"):
        lid = normalise_jid(value, "phoneOrJid")
        phone = context.sessions.resolve_lid(context.sessions.connected_engine(session_id), lid)
        if phone is None:
            raise NotFound(f"No phone number is known for {lid} yet.", code="lid_unknown")
        return phone
    return f"{phone_digits(value)}@s.whatsapp.net"


def _profile(context: HubContext, session_id: str, jid: str) -> dict:
    from neonize.utils.jid import build_jid

    engine = connected_engine(context, session_id)
    target = build_jid(jid.split("@")[0], "s.whatsapp.net")
    users = _engine_call(engine, "get_user_info", target)
    if not users:
        raise NotFound(f"{jid.split('@')[0]} is not on WhatsApp.", code="not_on_whatsapp")
    info = users[0].UserInfo
    contact = _engine_call(engine, "get_contact", target)
    business = info.VerifiedName.Details.verifiedName if info.HasField("VerifiedName") else ""
    return {"jid": jid, "lid": lid_of(context, engine, jid), "phone": jid.split("@")[0],
            "pushName": contact.PushName or business or None, "about": info.Status or None,
            "pictureUrl": _picture_url(engine, target), "isBusiness": info.HasField("VerifiedName")}


def _picture_url(engine, target) -> str | None:
    """The profile picture's URL; None when there is none or it is private (whatsmeow's errors say so)."""
    try:
        picture = engine.call("get_profile_picture", target)
    except EngineError:
        return None
    return picture.URL or None

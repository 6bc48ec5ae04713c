"""LID ↔ phone: the mappings WhatsApp revealed, kept in the database so `from` and `chatId` are phone
JIDs whenever any mapping is known, and sends to a number reach the chat WhatsApp keeps under its LID.

WhatsApp reveals a mapping in events (`SenderAlt` / `RecipientAlt`, a call's `CallCreatorAlt`),
in number checks and look-ups (GetLIDFromPN), and in whatsmeow's own store (GetPNFromLID). LIDs are
per user, not per session, so one table serves every session. Reads are answered from memory after
the first; a mapping is written only when it is new or changed.
"""
from __future__ import annotations

import logging
import threading

from sqlalchemy import select

from hub.store.contacts import LidMapping

log = logging.getLogger(__name__)


class LidStore:
    """Known LID ↔ phone JID pairs (any thread; the database is the shared truth across processes)."""

    def __init__(self, store):
        self.store = store
        self._phones: dict[str, str | None] = {}  # lid -> phone JID (None: looked up, unknown)
        self._lids: dict[str, str | None] = {}  # phone JID -> lid (None: looked up, unknown)
        self._lock = threading.Lock()

    def phone_of(self, lid: str) -> str | None:
        """The phone JID of `lid` (`…@lid`), or None when no mapping is known."""
        if lid not in self._phones:
            with self.store.session() as db:
                self._phones[lid] = db.scalar(select(LidMapping.phone_jid).where(LidMapping.lid == lid))
        return self._phones[lid]

    def lid_of(self, phone_jid: str) -> str | None:
        """The LID WhatsApp uses for `phone_jid`, or None when none is known."""
        if phone_jid not in self._lids:
            with self.store.session() as db:
                lid = db.scalar(select(LidMapping.lid).where(LidMapping.phone_jid == phone_jid)
                                .order_by(LidMapping.updated_at.desc()).limit(1))
            if lid is None:
                self._lids[phone_jid] = None
                return None
            self._remember_here(lid, phone_jid)
        return self._lids[phone_jid]

    def preload(self, phone_jids: list[str]) -> None:
        """Read the LIDs of many phone JIDs with one query (a number check asks for up to 50)."""
        missing = [jid for jid in phone_jids if jid not in self._lids]
        if not missing:
            return
        with self.store.session() as db:
            rows = db.execute(select(LidMapping.lid, LidMapping.phone_jid).where(LidMapping.phone_jid.in_(missing)))
            for lid, phone_jid in rows:
                self._remember_here(lid, phone_jid)
        for jid in missing:
            self._lids.setdefault(jid, None)

    def send_address(self, jid: str) -> str:
        """Where a message to `jid` goes: its LID when one is known for a phone JID, else `jid` itself."""
        if not jid.endswith("@s.whatsapp.net"):
            return jid
        return self.lid_of(jid) or jid

    def remember(self, lid: str | None, phone_jid: str | None, source: str) -> None:
        """Store a mapping WhatsApp revealed (no write when it is already known)."""
        self.remember_many([(lid, phone_jid)], source)

    def remember_many(self, pairs: list[tuple[str | None, str | None]], source: str) -> None:
        """Store the new ones of several (lid, phone JID) pairs, in one transaction."""
        new = [(lid, phone) for lid, phone in pairs if lid and phone and lid.endswith("@lid")
               and not phone.endswith("@lid") and self._phones.get(lid) != phone]
        if not new:
            return
        try:
            with self.store.session() as db:
                for lid, phone_jid in new:
                    row = db.get(LidMapping, lid)
                    if row is None:
                        db.add(LidMapping(lid=lid, phone_jid=phone_jid, source=source))
                    elif row.phone_jid != phone_jid:
                        row.phone_jid, row.source = phone_jid, source
        except Exception:  # a racing writer stored one first: the mappings are known either way
            log.debug("LID mappings %s not stored", new, exc_info=True)
        for lid, phone_jid in new:
            self._remember_here(lid, phone_jid)

    def _remember_here(self, lid: str, phone_jid: str) -> None:
        with self._lock:
            self._phones[lid] = phone_jid
            self._lids[phone_jid] = lid

    def learn_from(self, data: dict) -> None:
        """The pairs an event's data shows (`fromLid`/`from`, `chatLid`/`chatId`)."""
        for lid_key, phone_key in (("fromLid", "from"), ("chatLid", "chatId")):
            if data.get(lid_key):
                self.remember(data[lid_key], data.get(phone_key), "event")

"""What WhatsApp revealed about contacts: LID ↔ phone mappings and the results of number checks."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models import Base, CleanString, utcnow


class LidMapping(Base):
    """A LID (`…@lid`) and the phone JID WhatsApp revealed for it (events' *Alt fields, look-ups)."""

    __tablename__ = "lid_mappings"

    lid: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone_jid: Mapped[str] = mapped_column(String(128), index=True)
    source: Mapped[str] = mapped_column(String(16))  # event, check, lookup, store (GetPNFromLID)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ContactCheck(Base):
    """The last answer of WhatsApp's IsOnWhatsApp for a number, per session (the send API refuses
    numbers found not on WhatsApp recently)."""

    __tablename__ = "contact_checks"
    __table_args__ = (Index("ix_contact_checks_phone", "phone"),)

    session_id: Mapped[str] = mapped_column(CleanString(64), primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), primary_key=True)  # digits only
    exists: Mapped[bool] = mapped_column(Boolean)
    jid: Mapped[str | None] = mapped_column(String(128))
    lid: Mapped[str | None] = mapped_column(String(64))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxContact(Base):
    """A simulated number's profile (PUT /api/sandbox/contacts/<phone>); numbers without a row exist."""

    __tablename__ = "sandbox_contacts"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    exists: Mapped[bool] = mapped_column(Boolean, default=True)
    push_name: Mapped[str | None] = mapped_column(CleanString(128))
    about: Mapped[str | None] = mapped_column(CleanString(500))
    lid: Mapped[str | None] = mapped_column(String(64))
    is_business: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

"""The simulated WhatsApp's state, kept in the hub's database so every hub process sees one network."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models import Base, utcnow


class SandboxDevice(Base):
    """A linked device of a simulated number (what a sandbox session's QR scan created)."""

    __tablename__ = "sandbox_devices"

    jid: Mapped[str] = mapped_column(String(128), primary_key=True)  # 51990001234:7@s.whatsapp.net
    phone: Mapped[str] = mapped_column(String(32), index=True)
    lid: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64), index=True)  # the neonize client uuid (session id)
    push_name: Mapped[str] = mapped_column(String(128), default="")
    double_connections: Mapped[int] = mapped_column(Integer, default=0)
    # "<host> <pid>" of the hub process connected as this device: the servers see one socket per device,
    # whichever process opened it (a second process connecting while it lives is a double connection).
    connected_by: Mapped[str | None] = mapped_column(String(160))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxQueued(Base):
    """A message the servers hold for a device until the device acknowledges it."""

    __tablename__ = "sandbox_queue"
    __table_args__ = (Index("ix_sandbox_queue_device_acked", "device", "acked", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device: Mapped[str] = mapped_column(String(128))
    code: Mapped[int] = mapped_column(Integer)  # neonize's event number (17 MessageEv, 44 undecryptable)
    message_id: Mapped[str] = mapped_column(String(128))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    origin: Mapped[str | None] = mapped_column(String(128))  # the sending device, for its delivered receipt
    acked: Mapped[bool] = mapped_column(Boolean, default=False)
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxMedia(Base):
    """An uploaded (encrypted, on real WhatsApp) media blob, by its direct path."""

    __tablename__ = "sandbox_media"

    direct_path: Mapped[str] = mapped_column(String(255), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxSent(Base):
    """What a sandbox session sent, as the recipient's phone saw it."""

    __tablename__ = "sandbox_sent"
    __table_args__ = (Index("ix_sandbox_sent_client", "client", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(128))
    to: Mapped[str] = mapped_column(String(128))
    summary: Mapped[dict] = mapped_column(default=dict)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxGroup(Base):
    """A group on the simulated WhatsApp (whatsmeow types.GroupInfo: name, topic, settings, invite code)."""

    __tablename__ = "sandbox_groups"

    jid: Mapped[str] = mapped_column(String(64), primary_key=True)  # 120363…@g.us
    subject: Mapped[str] = mapped_column(String(128))
    subject_by: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    description_id: Mapped[str] = mapped_column(String(64), default="")
    owner: Mapped[str] = mapped_column(String(64))  # the creator's phone number
    announce: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    invite_code: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxGroupMember(Base):
    """A participant of a simulated group and its role (member, admin, superadmin: the creator)."""

    __tablename__ = "sandbox_group_members"

    group_jid: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16), default="member")
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxPrivacy(Base):
    """A simulated number's privacy setting for being added to groups (WhatsApp refuses with 403)."""

    __tablename__ = "sandbox_privacy"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_add: Mapped[str] = mapped_column(String(16), default="all")  # all | none

"""Typed SQLAlchemy 2.0 models. Each owns its own state changes."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text, TypeDecorator, false, insert, inspect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub import session_settings


def utcnow() -> datetime:
    """Timezone-aware UTC now."""
    return datetime.now(UTC)


def isoformat(value: datetime | None) -> str | None:
    """`2026-11-22T10:00:00.123Z` (milliseconds, Z), or None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, always returns aware UTC (SQLite drops the zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None else None


def clean_text(value: str, limit: int | None = None) -> str:
    """`value` as any database stores it: without NUL characters (PostgreSQL refuses them), at most `limit` long."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return value if limit is None or len(value) <= limit else value[:limit]


def clean_json(value):
    """JSON data with NUL characters stripped from every string in it (keys too)."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {clean_json(key): clean_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_json(item) for item in value]
    return value


class CleanString(TypeDecorator):
    """A String(n) column that stores any text: NULs stripped, cut to n characters.

    The last line of defence for every stored string: the API refuses over-long input with a
    400 naming the field, but a value from WhatsApp must never make its message fail to be
    stored (PostgreSQL refuses NULs and over-long values; SQLite would keep them). Lookups go
    through it too, so a NUL in a query value is ignored instead of failing the query.
    """

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        # Every string bound to the column passes here: the common case (clean) costs one scan.
        limit = self.impl.length
        if value.__class__ is str and ("\x00" in value or (limit is not None and len(value) > limit)):
            return clean_text(value, limit)
        return value


class CleanText(CleanString):
    """A Text column without NULs (no length limit)."""

    impl = Text
    cache_ok = True


_INSERTS: dict = {}  # one INSERT statement per table, built once (building one costs more than running it)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict: JSON}

    def insert_into(self, db) -> None:
        """INSERT this new row with one Core statement instead of a unit-of-work flush (hot paths).

        The object stays transient (not tracked by `db`); unset columns get their defaults.
        """
        insert_all(db, [self])

    def column_values(self) -> dict:
        """The columns set on this object, by name."""
        columns = self.__table__.c
        return {key: value for key, value in inspect(self).dict.items() if key in columns}


def insert_all(db, rows: list[Base]) -> None:
    """INSERT new rows of one model (objects never added to `db`)."""
    if rows:
        insert_values(db, rows[0].__table__, [row.column_values() for row in rows])


def insert_values(db, table, rows: list[dict]) -> None:
    """INSERT rows given as column values: one executemany per set of columns given (usually one)."""
    statement = _INSERTS.get(table.name)
    if statement is None:
        statement = _INSERTS[table.name] = insert(table)
    by_columns: dict[frozenset, list[dict]] = {}
    for values in rows:
        by_columns.setdefault(frozenset(values), []).append(values)
    for values in by_columns.values():
        # On the connection: a plain Core INSERT needs none of the ORM session's statement handling.
        db.connection().execute(statement, values if len(values) > 1 else values[0])


class SessionStatus(StrEnum):
    """A WhatsApp session's state (the values the API and session-status events show)."""

    STOPPED = "stopped"
    STARTING = "starting"
    QR = "qr"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    LOGGED_OUT = "logged_out"


# The session has an engine running (it may reconnect by itself).
SESSION_RUNNING = (SessionStatus.STARTING, SessionStatus.QR, SessionStatus.CONNECTED, SessionStatus.DISCONNECTED)
# The session cannot send: it waits for a reconnect, a new pairing or a start.
SESSION_DOWN = (SessionStatus.DISCONNECTED, SessionStatus.LOGGED_OUT, SessionStatus.STOPPED)
# Nobody asked for the session to run (in a cluster, no process holds it).
AT_REST = (SessionStatus.STOPPED, SessionStatus.LOGGED_OUT)


class Session(Base):
    """A WhatsApp session (one number) as the hub remembers it."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(CleanString(64), primary_key=True)
    description: Mapped[str] = mapped_column(CleanString(500), default="")
    engine: Mapped[str] = mapped_column(CleanString(16))
    status: Mapped[str] = mapped_column(CleanString(16), default=SessionStatus.STOPPED)
    jid: Mapped[str | None] = mapped_column(CleanString(128))
    phone: Mapped[str | None] = mapped_column(CleanString(32))
    push_name: Mapped[str | None] = mapped_column(CleanString(128))
    # The linked device's full JID (`number:device@server`): how a shared store finds this session's device.
    device_jid: Mapped[str | None] = mapped_column(CleanString(128))
    last_error: Mapped[str | None] = mapped_column(CleanText)
    reconnect_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_retry_at: Mapped[datetime | None]
    connected_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Only the settings a caller set (hub/session_settings.py fills in the defaults).
    settings: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    # The history sync of the last link: None (syncHistory was off then), else its progress.
    history_sync: Mapped[bool | None] = mapped_column(Boolean)
    history_messages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    history_chats: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    history_done: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    def change_settings(self, changes: dict) -> None:
        """Apply a validated settings PATCH (a new dict: JSON columns do not see in-place edits)."""
        self.settings = session_settings.merged(self.settings or {}, changes)

    def begin_history(self) -> None:
        """A device linked: its history sync is kept if syncHistory is on now (a later change: the next link)."""
        self.history_sync = bool(session_settings.view(self.settings).get("syncHistory")) or None
        self.history_messages, self.history_chats, self.history_done = 0, 0, False

    def history_view(self) -> dict | None:
        """`{messages, chats, done}` of the last link's history sync; None when it was not kept."""
        if not self.history_sync:
            return None
        return {"messages": self.history_messages, "chats": self.history_chats, "done": self.history_done}

    def set_status(self, status: str, reason: str | None = None) -> str:
        """Move to `status` (a SessionStatus value); returns the previous one."""
        status = SessionStatus(status)
        previous = self.status
        self.status = status
        if reason is not None or status == SessionStatus.CONNECTED:
            self.last_error = reason
        if status == SessionStatus.CONNECTED:
            self.connected_at = utcnow()
            self.reconnect_attempts = 0
            self.next_retry_at = None
        return previous

    def to_dict(self) -> dict:
        return {
            "sessionId": self.id, "description": self.description, "engine": self.engine,
            "sandbox": self.engine == "sandbox", "status": self.status,
            "connected": self.status == SessionStatus.CONNECTED, "jid": self.jid, "phone": self.phone,
            "pushName": self.push_name, "lastError": self.last_error,
            "reconnect": {"attempts": self.reconnect_attempts,
                          "nextRetryAt": isoformat(self.next_retry_at)},
            "connectedAt": isoformat(self.connected_at), "createdAt": isoformat(self.created_at),
            "updatedAt": isoformat(self.updated_at), "settings": session_settings.view(self.settings),
            "history": self.history_view(),
        }


class Event(Base):
    """A hub event (README.md, "Events"). Stored before it is delivered; `seq` grows per hub."""

    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(CleanString(40), unique=True)
    type: Mapped[str] = mapped_column(CleanString(32), index=True)
    session_id: Mapped[str | None] = mapped_column(CleanString(64), index=True)
    timestamp: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    def envelope(self) -> dict:
        """The JSON envelope every receiver gets."""
        return {"id": self.id, "seq": self.seq, "type": self.type, "sessionId": self.session_id,
                "timestamp": isoformat(self.timestamp), "sandbox": self.sandbox, "data": self.data}

    def envelope_json(self) -> str:
        return self.encode(self.envelope())

    @staticmethod
    def encode(envelope: dict) -> str:
        """An envelope as receivers get it (compact JSON, UTF-8 text kept as is)."""
        return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)

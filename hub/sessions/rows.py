"""The session table: rows created, read through a cache of their public views, and deleted.

Only the session manager writes session rows, and every write goes through `forget`, so a
cached view is never older than the row. Every send and sandbox message reads the view: the
cache saves that query.
"""
from __future__ import annotations

import copy
import threading
from collections.abc import Callable

from sqlalchemy import select

from hub.errors import Conflict, NotFound
from hub.store import Session, Store
from hub.store.models import SessionStatus


class SessionRows:
    """The `sessions` rows of one store and the cached view of each."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._views: dict[str, dict] = {}
        self._changes = 0  # bumped on every write: a view read before a write is not cached

    def get(self, session_id: str) -> dict:
        """The session's public view (the caller's own copy); NotFound if it does not exist."""
        return copy.deepcopy(self.peek(session_id))

    def fresh(self, session_id: str) -> dict:
        """The session's view read from the database now (another process changes it: not cached)."""
        with self.store.session() as db:
            return self.row(db, session_id).to_dict()

    def peek(self, session_id: str) -> dict:
        """The cached view itself, for hot paths that only read it (never edit it); NotFound if unknown."""
        view = self._views.get(session_id)
        if view is None:
            changes = self._changes
            with self.store.session() as db:
                view = self.row(db, session_id).to_dict()
            with self._lock:
                if changes == self._changes:
                    self._views[session_id] = view
        return view

    def forget(self, session_id: str) -> None:
        """After a write to the session's row (committed or not): the next get() reads it again."""
        with self._lock:
            self._changes += 1
            self._views.pop(session_id, None)

    def list(self) -> list[dict]:
        """Every session's view, oldest first."""
        with self.store.session() as db:
            return [row.to_dict() for row in db.scalars(select(Session).order_by(Session.created_at))]

    def exists(self, session_id: str) -> bool:
        """Whether the session has a row."""
        with self.store.session() as db:
            return db.get(Session, session_id) is not None

    def insert(self, session_id: str, description: str, engine_name: str) -> dict:
        """A new stopped session's row and view; 409 if the id is taken."""
        try:
            with self.store.session() as db:
                if db.get(Session, session_id) is not None:
                    raise Conflict(f"Session '{session_id}' already exists.", code="session_exists")
                row = Session(id=session_id, description=description, engine=engine_name,
                              status=SessionStatus.STOPPED)
                db.add(row)
                db.flush()
                return row.to_dict()
        finally:
            self.forget(session_id)

    def update(self, session_id: str, description: str | None, settings: dict) -> dict:
        """The view after changing the description (unless None) and the given settings."""
        try:
            with self.store.session() as db:
                row = self.row(db, session_id)
                if description is not None:
                    row.description = description
                row.change_settings(settings)
                db.flush()
                return row.to_dict()
        finally:
            self.forget(session_id)

    def delete(self, session_id: str, on_delete: list[Callable]) -> None:
        """Delete the row; each `on_delete(db, session_id)` first removes what hangs off it, in the same commit."""
        try:
            with self.store.session() as db:
                for callback in on_delete:
                    callback(db, session_id)
                db.delete(self.row(db, session_id))
        finally:
            self.forget(session_id)

    @staticmethod
    def row(db, session_id: str) -> Session:
        """The session's row in `db`; NotFound if it does not exist."""
        row = db.get(Session, session_id)
        if row is None:
            raise NotFound(f"Session '{session_id}' does not exist.", code="session_not_found")
        return row

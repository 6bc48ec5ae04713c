"""Database setup (engine, `db` sessions) and the typed models."""
from hub.store.db import Store
from hub.store.models import Base, Event, Session, utcnow

__all__ = ["Store", "Base", "Event", "Session", "utcnow"]

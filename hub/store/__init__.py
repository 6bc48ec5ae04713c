"""Database setup (engine, `db` sessions) and the typed models."""
from hub.store import cluster as _cluster_models  # noqa: F401  (the cluster's tables)
from hub.store import commands as _command_models  # noqa: F401  (commands for another process's sessions)
from hub.store import contacts as _contact_models  # noqa: F401  (LID mappings, number checks)
from hub.store import ratelimit as _ratelimit_models  # noqa: F401  (the API rate limits' buckets)
from hub.store import sandbox as _sandbox_models  # noqa: F401  (the simulated WhatsApp's tables)
from hub.store.db import Store
from hub.store.delivery import Attempt, Delivery, Endpoint
from hub.store.history import HistoryChunk
from hub.store.keys import ApiKey
from hub.store.messages import MediaFile, Message, Outbound
from hub.store.models import Base, Event, Session, utcnow

__all__ = ["Store", "Base", "Event", "Session", "utcnow", "Message", "Outbound", "MediaFile", "Endpoint", "Delivery",
           "Attempt", "ApiKey", "HistoryChunk"]

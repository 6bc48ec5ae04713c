"""The API rate limits' buckets, in the database so every hub process on PostgreSQL shares them."""
from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models import Base


class RateBucket(Base):
    """One caller's token bucket as GCRA keeps it: the theoretical arrival time of its next request."""

    __tablename__ = "rate_buckets"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # admin-1, a scoped key's id, addr:10.0.0.7
    tat: Mapped[float] = mapped_column(Float)  # epoch seconds (the processes' clocks: keep them in NTP sync)

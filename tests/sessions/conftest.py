"""Fixtures of the session tests: a live neonize session, and neonize's own parsing of built events."""
from __future__ import annotations

import pytest
from neonize.client import NewClient

from tests.sessions.neonize_helpers import go_delivers, live_neonize_engine


@pytest.fixture
def real(hub):
    """(hub, the live neonize engine of session 'real', its neonize client)."""
    engine, client = live_neonize_engine(hub, "real")
    return hub, engine, client


@pytest.fixture
def parsed(tmp_path):
    """`parsed(event)`: the event as a real NewClient's handler receives it from Go (serialized
    into a C buffer and parsed back by neonize), for checks of the pure mapping."""
    client = NewClient(str(tmp_path / "bare.db"))
    received = []

    def through_go(event):
        client.event(type(event))(lambda _client, message: received.append(message))
        go_delivers(client, event)
        return received.pop()
    return through_go

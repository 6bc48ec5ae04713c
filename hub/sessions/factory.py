"""The engine factory: the engine that runs a session, and where its WhatsApp store lives."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hub.errors import Unavailable
from hub.sessions.device_store import new_store
from hub.sessions.engine import Engine, EngineSink


def store_dir(config, session_id: str) -> Path:
    """The session's directory under HUB_SESSIONS_DIR (its whatsmeow store)."""
    return Path(config.sessions_dir) / session_id


def new_engine(session_id: str, engine_name: str, sink: EngineSink, config, simulator: Callable, store) -> Engine:
    """A NeonizeEngine; a sandbox session's talks to the simulated WhatsApp (`simulator()`) instead of Go.

    `store` is the hub's database (HUB_SESSION_STORE=database keeps whatsmeow's stores in it)."""
    try:
        from hub.sessions.neonize_engine import NeonizeEngine  # the Go library loads only when a session runs
    except ImportError as exc:
        raise Unavailable(f"The neonize engine cannot be loaded: {exc}", code="engine_unavailable") from exc
    library = simulator().library if engine_name == "sandbox" else None
    directory = store_dir(config, session_id)
    device_store = new_store(config, store, session_id, directory, sandbox=library is not None)
    return NeonizeEngine(session_id, directory, sink, config, library=library, device_store=device_store)

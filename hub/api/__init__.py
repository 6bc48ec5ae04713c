"""One blueprint per noun. `register(app)` adds them all."""
from __future__ import annotations


def register(app) -> None:
    from hub.api import events, health, sandbox, sessions

    for module in (health, sessions, sandbox, events):
        app.register_api(module.bp)

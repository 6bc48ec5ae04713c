"""One blueprint per noun. `register(app)` adds them all."""
from __future__ import annotations


def register(app) -> None:
    from hub.api import (compat, deliveries, events, health, listeners, media, messages, metrics, sandbox,
                         send, sessions, webhooks)

    for module in (health, sessions, sandbox, events, metrics, listeners, webhooks, deliveries,
                   send, messages, media, compat):
        app.register_api(module.bp)

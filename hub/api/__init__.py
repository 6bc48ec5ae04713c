"""One blueprint per noun. `register(app)` adds them all."""
from __future__ import annotations


def register(app) -> None:
    from hub.api import (
        actions,
        chats,
        cluster,
        compat,
        contacts,
        deliveries,
        events,
        groups,
        health,
        keys,
        listeners,
        media,
        messages,
        metrics,
        sandbox,
        sandbox_actions,
        sandbox_contacts,
        sandbox_history,
        sandbox_polls,
        send,
        sessions,
        tickets,
        webhooks,
    )

    for module in (health, sessions, sandbox, sandbox_polls, events, metrics, listeners, webhooks, deliveries,
                   send, messages, media, compat, tickets, keys, actions, chats, sandbox_actions, groups,
                   contacts, sandbox_contacts, sandbox_history, cluster):
        app.register_api(module.bp)

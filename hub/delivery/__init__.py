"""Durable event delivery: endpoints, outbox fan-out, dispatcher, retry policy, signing, URL guard."""
from __future__ import annotations


def install(events, sessions, targets) -> None:
    """Wire delivery into the event log and the session manager (starts nothing)."""
    from hub.delivery.endpoints import remove_session_webhooks

    events.add_hook(targets.fan_out)
    sessions.on_delete.append(remove_session_webhooks)

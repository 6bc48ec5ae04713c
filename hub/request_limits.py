"""The API's before_request limit: one bucket per caller, 429 with Retry-After when it is empty.

hub/auth.py names the caller once it is known (`g.rate_bucket`): an administrator key by its place
in HUB_API_KEY (`admin-1`), a scoped key by its id (`key_…`), a trusted network's request without a
key by its client address (`addr:10.0.0.7`, after ProxyFix behind nginx). Never the key itself,
which must not reach logs, metrics or the database. Requests without a name — public endpoints
(health, uploads, the docs, the dashboard shell), refused keys, WebSockets opened with a ticket —
are not limited: a load balancer's health checks and media downloads must never be refused.
"""
from __future__ import annotations

import functools
import math

from flask import current_app, g

from hub.api.errors import error_response
from hub.caller import Caller
from hub.rates import RateLimit, parse_rate_limit


@functools.lru_cache(maxsize=1024)
def _parsed(text: str) -> RateLimit:
    return parse_rate_limit(text)  # stored in canonical form when the key was created (hub/keys.py)


def rate_for(caller: Caller, default: RateLimit) -> RateLimit:
    """The caller's limit: its key's own (never above the default: checked at creation), else HUB_RATE_LIMIT."""
    return _parsed(caller.rate_limit) if caller.rate_limit else default


def too_many_requests(bucket_id: str, rate: RateLimit, retry_after: float):
    """429 in the one error shape, with Retry-After in whole seconds (HTTP has no fractions) and exact in the body."""
    seconds = max(1, math.ceil(retry_after))
    response, status = error_response(
        429, "rate_limited", f"Too many requests for {bucket_id} (limit {rate}): retry in {seconds} s.",
        retryAfter=round(retry_after, 3))
    response.headers["Retry-After"] = str(seconds)
    return response, status


def limit_request():
    """before_request hook (right after the key check): take one token from the caller's bucket."""
    context = current_app.extensions["hub"]
    bucket_id = g.get("rate_bucket")
    if context.config.rate_limit is None or bucket_id is None:
        return None
    rate = rate_for(g.caller, context.config.rate_limit)
    decision = context.limiter.take(bucket_id, rate)
    if decision.allowed:
        return None
    context.metrics.limited.labels(bucket_id).inc()
    return too_many_requests(bucket_id, rate, decision.retry_after)

"""POSTs one job with urllib3 (no retries, no redirects, bounded time) and reports what happened.

urllib3 rather than requests: measured here under gevent it does about twice the POSTs per
second (requests adds session/adapter layers per call; see README "Delivery").
"""
from __future__ import annotations

import time

import urllib3

from hub.delivery.outbox import Job, Result
from hub.delivery.signing import signature_headers
from hub.delivery.urlguard import check_at_send_time
from hub.errors import HubError
from hub.store import utcnow

USER_AGENT = "whatsapp-hub-webhooks/1.0"
CONNECT_TIMEOUT = 3.0
RESPONSE_LIMIT = 2048  # bytes of the receiver's answer kept in the attempt log
DRAIN_LIMIT = 65536  # read the rest of a reply up to this size to keep the connection alive


class Sender:
    """One connection pool for every endpoint; thread/greenlet safe."""

    def __init__(self, timeout: float, block_private: bool, pool_size: int = 8):
        self.block_private = block_private
        self.http = urllib3.PoolManager(
            num_pools=512, maxsize=pool_size, block=False, retries=False,
            timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=timeout, total=CONNECT_TIMEOUT + timeout))

    def post(self, job: Job) -> Result:
        """One signed POST; never raises for receiver or network failures."""
        at, started = utcnow(), time.monotonic()
        try:
            check_at_send_time(job.url, self.block_private)
            response = self.http.request("POST", job.url, body=job.body, headers=self.headers(job),
                                         redirect=False, preload_content=False)
        except HubError as exc:
            return Result(job, at, None, _elapsed(started), f"blocked: {exc.message}")
        except urllib3.exceptions.HTTPError as exc:
            return Result(job, at, None, _elapsed(started), _describe(exc))
        return self._read(job, at, started, response)

    @staticmethod
    def headers(job: Job) -> dict:
        """Custom headers first, so they can never replace the signature or content headers."""
        return {**job.headers, "content-type": "application/json", "user-agent": USER_AGENT,
                **signature_headers(job.secret, job.event_id, job.body)}

    def _read(self, job: Job, at, started: float, response) -> Result:
        """Keep the first 2 KB of the answer, then free the connection."""
        try:
            snippet = response.read(RESPONSE_LIMIT)
            error = None if 200 <= response.status < 300 else _http_error(response.status)
        except urllib3.exceptions.HTTPError as exc:
            snippet, error = b"", _describe(exc)
        finally:
            _release(response)
        return Result(job, at, response.status, _elapsed(started), error,
                      snippet.decode("utf-8", "replace"), response.headers.get("retry-after"))


def _release(response) -> None:
    """Return the connection to the pool (drained when small), or drop it."""
    try:
        if (response.length_remaining or 0) <= DRAIN_LIMIT:
            response.drain_conn()
        else:
            response.close()
    except urllib3.exceptions.HTTPError:
        response.close()
    response.release_conn()


def _http_error(status: int) -> str:
    if 300 <= status < 400:
        return f"HTTP {status} (redirects are not followed)"
    return f"HTTP {status}"


def _describe(exc: Exception) -> str:
    """Error class and message, short enough for the log."""
    return f"{type(exc).__name__}: {exc}"[:300]


def _elapsed(started: float) -> float:
    return (time.monotonic() - started) * 1000

"""POSTs one job (no retries, no redirects, bounded time) and reports what happened.

Under gunicorn's gevent worker (socket monkey-patched) the POSTs go through geventhttpclient:
measured here it makes about twice the POSTs per second of urllib3, which makes about twice
those of requests (see README "HTTP client and benchmark"). Its pools are gevent objects that
must not be shared between real threads, so without gevent (plain pytest, scripts) urllib3
does the same job.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from http.client import HTTPException
from typing import NamedTuple
from urllib.parse import urlsplit

import urllib3
from gevent import monkey
from geventhttpclient import HTTPClient

from hub.delivery.outbox import Job, Result
from hub.delivery.signing import signature_headers
from hub.delivery.urlguard import check_at_send_time
from hub.errors import HubError
from hub.store import utcnow

USER_AGENT = "whatsapp-hub-webhooks/1.0"
CONNECT_TIMEOUT = 3.0
RESPONSE_LIMIT = 2048  # bytes of the receiver's answer kept in the attempt log
DRAIN_LIMIT = 65536  # read the rest of a reply up to this size to keep the connection alive
MAX_HOSTS = 512  # connection pools kept (least recently used dropped)


class Reply(NamedTuple):
    """The receiver's answer (error: reading its body failed)."""

    status: int
    body: bytes
    retry_after: str | None
    error: str | None = None


class Sender:
    """Signs and POSTs jobs over keep-alive connections; thread/greenlet safe."""

    def __init__(self, timeout: float, block_private: bool, pool_size: int = 8):
        self.block_private = block_private
        gevent_sockets = monkey.is_module_patched("socket")
        self.transport = (GeventTransport if gevent_sockets else Urllib3Transport)(timeout, pool_size)

    def post(self, job: Job) -> Result:
        """One signed POST; never raises for receiver or network failures."""
        at, started = utcnow(), time.monotonic()
        try:
            check_at_send_time(job.url, self.block_private)
            reply = self.transport.post(job.url, job.body, self.headers(job))
        except HubError as exc:
            return Result(job, at, None, _elapsed(started), f"blocked: {exc.message}")
        except self.transport.errors as exc:
            return Result(job, at, None, _elapsed(started), _describe(exc))
        error = reply.error or (None if 200 <= reply.status < 300 else _http_error(reply.status))
        return Result(job, at, reply.status, _elapsed(started), error,
                      reply.body.decode("utf-8", "replace"), reply.retry_after)

    @staticmethod
    def headers(job: Job) -> dict:
        """Custom headers first, so they can never replace the signature or content headers."""
        return {**job.headers, "content-type": "application/json", "user-agent": USER_AGENT,
                **signature_headers(job.secret, job.event_id, job.body)}


class GeventTransport:
    """geventhttpclient: one pool of keep-alive connections per (scheme, host, port)."""

    # socket errors (refused, reset, timeouts, DNS, TLS verification), malformed or cut replies,
    # and URLs it refuses to put on the wire
    errors = (OSError, HTTPException, ValueError)

    def __init__(self, timeout: float, pool_size: int):
        self.timeout, self.pool_size = timeout, pool_size
        self.clients: OrderedDict[tuple, HTTPClient] = OrderedDict()

    def post(self, url: str, body: bytes, headers: dict) -> Reply:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        response = self.client(parts).request("POST", target, body=body, headers=headers)
        try:
            snippet, error = response.read(RESPONSE_LIMIT), None
            _drain(response)
        except self.errors as exc:
            snippet, error = b"", _describe(exc)
        finally:
            response.release()  # back to the pool when the reply was read whole, else closed
        return Reply(response.status_code, snippet, _first(response.get("retry-after")), error)

    def client(self, parts) -> HTTPClient:
        """The pool for this URL's origin (HTTPS verifies certificates and host names)."""
        key = (parts.scheme, parts.hostname, parts.port)
        client = self.clients.get(key)
        if client is None:
            # A pool blocks once `concurrency` connections are out, so it is as large as the
            # POSTs in flight overall: endpoints often share a host. Connections open on demand.
            client = self.clients[key] = HTTPClient(
                parts.hostname, parts.port, ssl=parts.scheme == "https", concurrency=self.pool_size,
                connection_timeout=CONNECT_TIMEOUT, network_timeout=self.timeout)
            if len(self.clients) > MAX_HOSTS:  # dropped, not closed: a POST may still be using it
                self.clients.popitem(last=False)
        else:
            self.clients.move_to_end(key)
        return client


class Urllib3Transport:
    """urllib3 (without gevent): one PoolManager for every endpoint."""

    errors = (urllib3.exceptions.HTTPError,)

    def __init__(self, timeout: float, pool_size: int):
        self.http = urllib3.PoolManager(
            num_pools=MAX_HOSTS, maxsize=pool_size, block=False, retries=False,
            timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=timeout, total=CONNECT_TIMEOUT + timeout))

    def post(self, url: str, body: bytes, headers: dict) -> Reply:
        response = self.http.request("POST", url, body=body, headers=headers, redirect=False,
                                     preload_content=False)
        try:
            snippet, error = response.read(RESPONSE_LIMIT), None
        except self.errors as exc:
            snippet, error = b"", _describe(exc)
        finally:
            _release(response)
        return Reply(response.status, snippet, response.headers.get("retry-after"), error)


def _drain(response) -> None:
    """Read the rest of a small reply so its connection can be reused (a big one is closed)."""
    left = DRAIN_LIMIT
    while left > 0 and not response.message_complete and (chunk := response.read(min(left, 16384))):
        left -= len(chunk)


def _release(response) -> None:
    """Return the urllib3 connection to the pool (drained when small), or drop it."""
    try:
        if (response.length_remaining or 0) <= DRAIN_LIMIT:
            response.drain_conn()
        else:
            response.close()
    except urllib3.exceptions.HTTPError:
        response.close()
    response.release_conn()


def _first(value: str | list[str] | None) -> str | None:
    """A header's value (the first one when the receiver sent it twice)."""
    return value[0] if isinstance(value, list) else value


def _http_error(status: int) -> str:
    if 300 <= status < 400:
        return f"HTTP {status} (redirects are not followed)"
    return f"HTTP {status}"


def _describe(exc: Exception) -> str:
    """Error class and message, short enough for the log."""
    return f"{type(exc).__name__}: {exc}"[:300]


def _elapsed(started: float) -> float:
    return (time.monotonic() - started) * 1000

"""POSTs one job (no retries, no redirects, one total deadline) and reports what happened.

Under gunicorn's gevent worker (socket monkey-patched) the POSTs go through geventhttpclient:
measured here it makes about twice the POSTs per second of urllib3, which makes about twice
those of requests (see README "HTTP client and benchmark"). Its pools are gevent objects that
must not be shared between real threads, so without gevent (plain pytest, scripts) each POST
goes over its own urllib3 connection (hub/egress.py).

Each attempt checks the URL again (hub/urlguard.py); with HUB_BLOCK_PRIVATE_URLS the POST
goes to the address that check resolved and accepted, never to a second DNS answer.
HUB_WEBHOOK_TIMEOUT bounds the whole attempt (hub/egress.py), however slowly a receiver answers.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from http.client import HTTPException
from typing import NamedTuple

import urllib3
from gevent import monkey
from geventhttpclient import HTTPClient

from hub import egress, urlguard
from hub.delivery.outbox import Job, Result
from hub.delivery.signing import signature_headers
from hub.errors import HubError
from hub.store import utcnow
from hub.urlguard import Destination

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
    """Signs and POSTs jobs (over keep-alive connections under gevent); thread/greenlet safe."""

    def __init__(self, timeout: float, block_private: bool, pool_size: int = 8, transport=None):
        self.timeout, self.block_private = timeout, block_private
        gevent_sockets = monkey.is_module_patched("socket")
        self.transport = transport or (GeventTransport(timeout, pool_size) if gevent_sockets else DirectTransport())

    def post(self, job: Job) -> Result:
        """One signed POST; never raises for receiver or network failures."""
        at, started, destination = utcnow(), time.monotonic(), None
        try:
            with egress.deadline(self.timeout, f"no complete answer within {self.timeout:g} s (HUB_WEBHOOK_TIMEOUT)",
                                 self.transport.interrupt) as limit:
                destination = urlguard.check(job.url, self.block_private)  # its DNS lookup counts too
                reply = self.transport.post(destination, job.body, self.headers(job), limit)
        except HubError as exc:
            return Result(job, at, None, _elapsed(started), f"blocked: {exc.message}")
        except egress.RequestTimedOut as exc:
            if destination is not None:
                self.transport.forget(destination)
            return Result(job, at, None, _elapsed(started), _describe(exc))
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
    """geventhttpclient: one pool of keep-alive connections per origin (and checked address)."""

    # socket errors (refused, reset, timeouts, DNS, TLS verification), malformed or cut replies,
    # and URLs it refuses to put on the wire
    errors = (OSError, HTTPException, ValueError)
    interrupt = True  # gevent sockets: the deadline is a gevent.Timeout

    def __init__(self, timeout: float, pool_size: int):
        self.timeout, self.pool_size = timeout, pool_size
        self.clients: OrderedDict[tuple, HTTPClient] = OrderedDict()

    def post(self, destination: Destination, body: bytes, headers: dict, limit: egress.Deadline) -> Reply:
        response = self.client(destination).request("POST", destination.target, body=body, headers=headers)
        try:
            snippet, error = response.read(RESPONSE_LIMIT), None
            _drain(response)
        except self.errors as exc:
            snippet, error = b"", _describe(exc)
        finally:
            response.release()  # back to the pool when the reply was read whole, else closed
        return Reply(response.status_code, snippet, _first(response.get("retry-after")), error)

    def client(self, destination: Destination) -> HTTPClient:
        """The pool for this origin; HTTPS verifies the certificate against the URL's name."""
        key = _origin(destination)
        client = self.clients.get(key)
        if client is None:
            client = self.clients[key] = self._new_client(destination)
            if len(self.clients) > MAX_HOSTS:  # dropped, not closed: a POST may still be using it
                self.clients.popitem(last=False)
        else:
            self.clients.move_to_end(key)
        return client

    def _new_client(self, destination: Destination) -> HTTPClient:
        """A pool that connects to the pinned address (if any) and speaks to the URL's name.

        A pool blocks once `concurrency` connections are out, so it is as large as the POSTs in
        flight overall: endpoints often share a host. Connections open on demand.
        """
        pinned = {"headers": {"Host": destination.netloc}} if destination.address else {}
        if destination.address and destination.https:
            pinned["ssl_options"] = {"server_hostname": destination.host}
        return HTTPClient(destination.connect_host, destination.port, ssl=destination.https,
                          concurrency=self.pool_size, connection_timeout=CONNECT_TIMEOUT,
                          network_timeout=self.timeout, **pinned)

    def forget(self, destination: Destination) -> None:
        """Drop an origin's pool after a deadline cut a POST short.

        An interrupted send leaves geventhttpclient's pool a connection short (it neither returns
        nor releases it), so the pool is replaced rather than slowly exhausted.
        """
        self.clients.pop(_origin(destination), None)


class DirectTransport:
    """Without gevent: each POST over its own urllib3 connection (tests and scripts: no keep-alive)."""

    errors = (urllib3.exceptions.HTTPError, HTTPException, OSError)
    interrupt = False  # real sockets: the deadline's timer cuts the connection

    def post(self, destination: Destination, body: bytes, headers: dict, limit: egress.Deadline) -> Reply:
        with egress.exchange(destination, "POST", limit, body, headers) as response:
            try:
                snippet, error = response.read(RESPONSE_LIMIT), None
            except self.errors as exc:
                snippet, error = b"", _describe(exc)
            return Reply(response.status, snippet, response.headers.get("retry-after"), error)

    def forget(self, destination: Destination) -> None:
        """Nothing is pooled."""


def _origin(destination: Destination) -> tuple:
    return destination.scheme, destination.host, destination.port, destination.address


def _drain(response) -> None:
    """Read the rest of a small reply so its connection can be reused (a big one is closed)."""
    left = DRAIN_LIMIT
    while left > 0 and not response.message_complete and (chunk := response.read(min(left, 16384))):
        left -= len(chunk)


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

"""Requests the hub makes to URLs its users give it, each within one total deadline.

The deadline covers the whole request (connect, send, the answer), not each socket read: a
peer that drips one byte at a time would otherwise keep a request open for as long as it likes.
Under gevent a gevent.Timeout interrupts whatever the request waits on. Without gevent (plain
pytest, scripts) a timer shuts the connection's socket down at the deadline, which wakes a
blocked read at once; the request then fails with the same RequestTimedOut.
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import gevent
import urllib3
from gevent import monkey
from urllib3.connection import HTTPConnection, HTTPSConnection

from hub.urlguard import Destination


class RequestTimedOut(Exception):
    """The request took longer than its deadline."""


class Deadline:
    """When a request must be over; `watch` connections that a timer must cut (thread mode)."""

    def __init__(self, seconds: float, interrupt: bool):
        self.at = time.monotonic() + seconds
        self.interrupt = interrupt  # a gevent.Timeout interrupts the request: no timers needed
        self.fired = False
        self._timers: list[threading.Timer] = []

    def remaining(self) -> float:
        return max(0.001, self.at - time.monotonic())

    def watch(self, connection: HTTPConnection) -> None:
        """Shut `connection`'s socket down at the deadline (without gevent)."""
        if not self.interrupt:
            timer = threading.Timer(self.remaining(), self._cut, (connection,))
            timer.daemon = True
            timer.start()
            self._timers.append(timer)

    def _cut(self, connection: HTTPConnection) -> None:
        self.fired = True
        if connection.sock is not None:
            try:  # the plain socket call: also wakes a read inside TLS, whose own shutdown would not
                socket.socket.shutdown(connection.sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def cancel(self) -> None:
        for timer in self._timers:
            timer.cancel()


@contextmanager
def deadline(seconds: float, message: str, interrupt: bool | None = None) -> Iterator[Deadline]:
    """Run a request within `seconds` in all; RequestTimedOut(message) past it.

    `interrupt`: use a gevent.Timeout (default: when gevent has patched `socket`; always for
    gevent sockets such as geventhttpclient's).
    """
    interrupt = monkey.is_module_patched("socket") if interrupt is None else interrupt
    limit, expired = Deadline(seconds, interrupt), RequestTimedOut(message)
    timeout = gevent.Timeout(seconds, expired) if interrupt else None
    if timeout is not None:
        timeout.start()
    try:
        yield limit
    except Exception as exc:
        if exc is not expired and limit.fired:  # the timer's shutdown made the request fail
            raise expired from None
        raise
    finally:
        if timeout is not None:
            timeout.close()
        limit.cancel()
    if limit.fired:  # the timer cut the answer short, though nothing failed
        raise expired


@contextmanager
def exchange(destination: Destination, method: str, limit: Deadline, body: bytes | None = None,
             headers: dict | None = None) -> Iterator[urllib3.BaseHTTPResponse]:
    """One request over a new connection to `destination`: its checked address when the guard pinned one.

    The name stays in the Host header and, for https, in TLS (SNI and the certificate check).
    The connection is closed on leaving.
    """
    connection = _connection(destination, limit.remaining())
    try:
        limit.watch(connection)
        connection.connect()
        connection.request(method, destination.target, body=body, preload_content=False,
                           headers={"Host": destination.netloc, **(headers or {})})
        yield connection.getresponse()
    finally:
        connection.close()


def _connection(destination: Destination, timeout: float) -> HTTPConnection:
    if destination.https:
        return HTTPSConnection(destination.connect_host, destination.port, timeout=timeout,
                               server_hostname=destination.host)
    return HTTPConnection(destination.connect_host, destination.port, timeout=timeout)

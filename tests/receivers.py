"""Real HTTP receivers on loopback for webhook tests (TCP_NODELAY set: no 40 ms Nagle stalls)."""
from __future__ import annotations

import ipaddress
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()


class Receiver:
    """Records every POST; `behaviour(n, request)` returns (status, headers, body) for the n-th request."""

    def __init__(self, behaviour=None):
        self.requests: list[dict] = []
        self.behaviour = behaviour or (lambda n, req: (200, {}, b"ok"))
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                record = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                          "body": body, "at": time.time()}
                with receiver._lock:
                    receiver.requests.append(record)
                    n = len(receiver.requests)
                status, headers, payload = receiver.behaviour(n, record)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def events(self) -> list[dict]:
        with self._lock:
            return [json.loads(r["body"]) for r in self.requests]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def read_request(conn: socket.socket) -> bytes:
    """One whole HTTP request (head and Content-Length body) from a raw or TLS socket."""
    data = b""
    while b"\r\n\r\n" not in data and (chunk := conn.recv(65536)):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    while length and len(body) < int(length.group(1)) and (chunk := conn.recv(65536)):
        body += chunk
    return head + b"\r\n\r\n" + body


class Dripper:
    """A slow peer on loopback: reads a request's head, then answers one byte every `interval` seconds.

    Connections after the first `slow` ones are answered at once, the request read whole.
    """

    def __init__(self, interval: float = 0.8, answer: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                 slow: int = 1000):
        self.interval, self.answer, self.slow = interval, answer, slow
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}{path}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn, self.connections > self.slow), daemon=True).start()

    def _drip(self, conn: socket.socket, fast: bool) -> None:
        with conn:
            if fast:
                read_request(conn)
                conn.sendall(self.answer)
                return
            head = b""
            while b"\r\n\r\n" not in head and (chunk := conn.recv(65536)):
                head += chunk
            for byte in self.answer:
                time.sleep(self.interval)
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self) -> None:
        self.listener.close()


class LoopbackOnly:
    """Records every outgoing connect and refuses any that is not to loopback.

    Installed around URL-guard tests, so a guard that fails open still cannot reach another host.
    """

    def __init__(self, monkeypatch):
        import _socket

        import gevent.socket

        self.targets: list[tuple] = []
        for cls, original in ((socket.socket, _socket.socket.connect),
                              (gevent.socket.socket, gevent.socket.socket.connect)):
            monkeypatch.setattr(cls, "connect", self._guarded(original))

    def _guarded(self, original):
        def connect(sock, address):
            self.targets.append(tuple(address[:2]))
            if not ipaddress.ip_address(address[0].split("%")[0]).is_loopback:
                raise ConnectionRefusedError(f"test: connecting to {address[0]} is not allowed here")
            return original(sock, address)
        return connect

"""Real HTTP receivers on loopback for webhook tests (TCP_NODELAY set: no 40 ms Nagle stalls)."""
from __future__ import annotations

import json
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

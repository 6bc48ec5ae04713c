"""What both example listeners share: an HTTP server that accepts signed hub deliveries, and
the command-line options for reaching the hub.

The server answers 401 to a bad signature, 400 to a body that is not an event, 200 when
`on_event` returned, and 500 when it raised, so the hub retries the delivery later. Before
reading a body it checks the declared Content-Length: missing (411), not a number (400) or over
`max_body` (413) and the body is never read; anyone can reach this port, signed or not.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

from listeners.client import SignatureError, verify

log = logging.getLogger(__name__)

# on_event(event, webhook_id): process one verified delivery.
EventHandler = Callable[[dict, str], None]
MAX_BODY = 4 * 1024 * 1024  # hub events carry media as URLs: a few kB, texts up to 64 kB


class DeliveryServer(ThreadingHTTPServer):
    """Accepts POSTs on `webhook_path`, verifies them with `secret`, hands events to `on_event`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, webhook_path: str, secret: str, on_event: EventHandler,
                 max_body: int = MAX_BODY):
        self.webhook_path, self.secret, self.on_event, self.max_body = webhook_path, secret, on_event, max_body
        super().__init__((host, port), _DeliveryHandler)

    def server_bind(self) -> None:
        # Without TCP_NODELAY, Nagle + delayed ACK add ~40 ms to every delivery on loopback.
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()

    def receive(self, body: bytes, headers: dict) -> int:
        """The HTTP status for one delivery."""
        try:
            event = verify(self.secret, body, headers)
        except SignatureError as exc:
            log.warning("rejected a delivery: %s", exc)
            return 401
        except ValueError:
            return 400
        try:
            self.on_event(event, headers.get("webhook-id", ""))
        except Exception:
            log.exception("handling event %s failed; the hub will retry it", event.get("id"))
            return 500
        return 200

    def serve_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="deliveries", daemon=True)
        thread.start()
        return thread


class _DeliveryHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: DeliveryServer

    def do_POST(self) -> None:
        refused = self.refusal()
        if refused:
            self.close_connection = True  # the unread body must not be taken for the next request
            self.answer(refused)
            return
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.answer(self.server.receive(body, {k.lower(): v for k, v in self.headers.items()}))

    def refusal(self) -> int | None:
        """Why the body is not read at all: wrong path, or a missing, invalid or too large length."""
        if self.path.split("?", 1)[0] != self.server.webhook_path:
            return 404
        declared = self.headers.get("Content-Length")
        if declared is None:
            return 411
        if not declared.isdigit():
            return 400
        return 413 if int(declared) > self.server.max_body else None

    def answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args) -> None:
        log.debug("%s " + format, self.address_string(), *args)


def is_registered(endpoints: list[dict], url: str) -> bool:
    """Whether the hub lists an endpoint for `url` and every such endpoint is enabled."""
    mine = [endpoint for endpoint in endpoints if endpoint["url"] == url]
    return bool(mine) and all(endpoint["enabled"] for endpoint in mine)


def keep_registered(ensure: Callable[[], bool], interval: float) -> threading.Thread:
    """Call `ensure()` now and every `interval` seconds; a hub that is down is retried next time."""
    def loop() -> None:
        while True:
            try:
                if ensure():
                    log.info("registered with the hub")
            except Exception as exc:  # the hub may be restarting: keep trying
                log.warning("could not check the registration with the hub: %s", exc)
            time.sleep(interval)

    thread = threading.Thread(target=loop, name="keep-registered", daemon=True)
    thread.start()
    return thread


def base_arguments(description: str, default_port: int) -> argparse.ArgumentParser:
    """Options every listener takes; each also reads an environment variable."""
    env = os.environ.get
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--hub-url", default=env("HUB_URL", "http://127.0.0.1:3000"),
                        help="the hub's base URL (HUB_URL)")
    parser.add_argument("--api-key", default=env("HUB_API_KEY"), help="the hub's API key (HUB_API_KEY)")
    parser.add_argument("--host", default=env("LISTEN_HOST", "127.0.0.1"),
                        help="address to listen on (LISTEN_HOST)")
    parser.add_argument("--port", type=int, default=int(env("LISTEN_PORT", default_port)),
                        help="port to listen on (LISTEN_PORT)")
    parser.add_argument("--public-url", default=env("PUBLIC_URL"),
                        help="URL the hub POSTs to (PUBLIC_URL; default http://HOST:PORT/webhook)")
    parser.add_argument("--secret", default=env("WEBHOOK_SECRET"),
                        help="signing secret whsec_... (WEBHOOK_SECRET; default: a new one per start)")
    parser.add_argument("--check-interval", type=float, default=float(env("CHECK_INTERVAL", 30)),
                        help="seconds between checks that the hub still has the registration (CHECK_INTERVAL)")
    parser.add_argument("--log-level", default=env("LOG_LEVEL", "INFO"))
    return parser


def parse(parser: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """Parse and check the options; set up logging."""
    args = parser.parse_args(argv)
    if not args.api_key:
        parser.error("the hub's API key is required: --api-key or HUB_API_KEY")
    args.public_url = args.public_url or f"http://{args.host}:{args.port}/webhook"
    args.webhook_path = urlparse(args.public_url).path or "/"
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args


def serve(args: argparse.Namespace, secret: str, ensure_registered: Callable[[], bool],
          on_event: EventHandler) -> None:
    """Receive deliveries, keep the registration alive, and run until SIGTERM or Ctrl-C."""
    server = DeliveryServer(args.host, args.port, args.webhook_path, secret, on_event)
    server.serve_in_background()
    log.info("listening on %s:%d; the hub posts to %s", args.host, args.port, args.public_url)
    keep_registered(ensure_registered, args.check_interval)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.shutdown()

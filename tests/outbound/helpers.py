"""Helpers shared by the send/media tests: what the sandbox sent, stored rows, events, a file server."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler

from sqlalchemy import func, select

from hub.store import Outbound
from tests.receivers import _Server  # loopback server with TCP_NODELAY

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a730000001649444154789c633c"
                    "2127c7c0c0c0c4c0c0c0c0c000000d0401087d71ca660000000049454e44ae426082"
                    "")  # a real 2x2 PNG: neonize builds the thumbnail with PIL


def sent(client, session_id: str = "shop") -> list[dict]:
    """What the sandbox phone sent, oldest first."""
    return client.get(f"/api/sandbox/{session_id}/sent").get_json()["messages"]


def outbound_count(hub) -> int:
    with hub.store.session() as db:
        return db.scalar(select(func.count()).select_from(Outbound))


def events(client, event_type: str) -> list[dict]:
    """Stored events of one type, oldest first."""
    return list(reversed(client.get("/api/events", query_string={"type": event_type}).get_json()["events"]))


class FileServer:
    """Serves `files` {path: (status, content type, body)} over real HTTP on loopback."""

    def __init__(self, files: dict):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                status, content_type, body = files.get(self.path, (404, "text/plain", b"missing"))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

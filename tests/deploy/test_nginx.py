"""The repository's nginx.conf, run by real nginx (ports and paths substituted, a self-signed
certificate made here) in front of real gunicorn: TLS, redirect, proxy headers, WebSocket,
media from disk, the body limit, and Socket.IO (WebSocket and long-polling)."""
from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
from pathlib import Path

import pytest
import requests
import socketio
import websocket
from requests.adapters import HTTPAdapter

from tests.compat.sio import Client
from tests.deploy.nginxproc import local_lines, make_certificate, render, running, skip_without_nginx, tls_lines
from tests.integration.hubproc import API_KEY, ROOT, HubProcess, free_port

skip_without_nginx()

KEY = {"X-API-Key": API_KEY}
CLIENT_ADDRESS = "127.0.0.2"  # a second loopback address, to tell the client from the proxy


def render_config(directory: Path, hub: HubProcess, http_port: int, https_port: int,
                  cert: Path, key: Path) -> Path:
    """nginx.conf with this test's ports, files and upstream; each replaced line must exist once."""
    replacements = {**local_lines(directory, "www-data", "whatsapp-hub.access.log"),
                    **tls_lines(directory, http_port, https_port, cert, key),
                    "alias /srv/whatsapp-hub/uploads/;": f"alias {hub.directory / 'uploads'}/;",
                    "server 127.0.0.1:3000;": f"server 127.0.0.1:{hub.port};"}
    return render(ROOT / "nginx.conf", directory, replacements)


class Proxy:
    """What the tests need to reach the hub through nginx."""

    def __init__(self, hub: HubProcess, http_port: int, https_port: int, cert: Path):
        self.hub, self.http_port, self.https_port, self.cert = hub, http_port, https_port, cert
        self.access_log = cert.parent / "access.log"
        self.url = f"https://127.0.0.1:{https_port}"

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, verify=str(self.cert), timeout=10, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return requests.post(self.url + path, verify=str(self.cert), timeout=30, **kwargs)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    directory = tmp_path_factory.mktemp("nginx")
    http_port, https_port = free_port(), free_port()
    cert, key = make_certificate(directory)
    hub = HubProcess(tmp_path_factory.mktemp("hub"), HUB_PROXIES=1, HUB_TRUSTED_NETWORKS=f"{CLIENT_ADDRESS}/32",
                     HUB_PUBLIC_URL=f"https://127.0.0.1:{https_port}")
    with hub, running(render_config(directory, hub, http_port, https_port, cert, key), https_port):
        yield Proxy(hub, http_port, https_port, cert)


class SourceAddressAdapter(HTTPAdapter):
    """Connects from a chosen local address."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def test_api_over_https_and_plain_http_redirects(proxy):
    health = proxy.get("/api/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert health.headers["Strict-Transport-Security"].startswith("max-age=")
    assert proxy.get("/api/sessions", headers=KEY).json()["success"] is True
    assert proxy.get("/api/sessions").status_code == 401

    plain = requests.get(f"http://127.0.0.1:{proxy.http_port}/api/sessions?limit=5", allow_redirects=False, timeout=5)
    assert plain.status_code == 301
    assert plain.headers["Location"] == "https://127.0.0.1/api/sessions?limit=5"


def test_client_address_comes_from_nginx_not_from_a_forged_header(proxy):
    # HUB_TRUSTED_NETWORKS=127.0.0.2/32: a keyless request is accepted only from that address.
    trusted = requests.Session()
    trusted.mount("https://", SourceAddressAdapter(CLIENT_ADDRESS))
    assert trusted.get(proxy.url + "/api/sessions", verify=str(proxy.cert), timeout=10).status_code == 200
    forged = proxy.get("/api/sessions", headers={"X-Forwarded-For": CLIENT_ADDRESS})
    assert forged.status_code == 401


def test_websocket_through_the_proxy_follows_a_session_to_connected(proxy):
    url = f"wss://127.0.0.1:{proxy.https_port}/ws/session/tienda?engine=sandbox&apiKey={API_KEY}"
    ws = websocket.create_connection(url, timeout=10, sslopt={"ca_certs": str(proxy.cert)})
    messages = []
    try:
        while not messages or messages[-1] != {"event": "status", "data": "connected"}:
            messages.append(json.loads(ws.recv()))
            if messages[-1]["event"] == "qr":
                assert proxy.post("/api/sandbox/tienda/scan", json={}, headers=KEY).status_code == 200
    finally:
        ws.close()
    assert [message["event"] for message in messages] == ["status", "qr", "status"]


def verified_session(proxy: Proxy) -> requests.Session:
    """A requests session that trusts the test certificate (and not REQUESTS_CA_BUNDLE instead)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(proxy.cert)
    return session


def test_socket_io_through_the_proxy_over_websocket_and_polling(proxy):
    proxy.post("/api/sessions", json={"sessionId": "sio", "engine": "sandbox", "start": True}, headers=KEY)
    proxy.post("/api/sandbox/sio/scan", json={}, headers=KEY)
    verified = verified_session(proxy)
    websocket_client = Client(http_session=verified).connect(proxy, "websocket", auth={"apiKey": API_KEY})
    # Keyless long-polling from the trusted address: the hub must see it through X-Forwarded-For.
    trusted = verified_session(proxy)
    trusted.mount("https://", SourceAddressAdapter(CLIENT_ADDRESS))
    polling_client = Client(http_session=trusted).connect(proxy, "polling")
    try:
        for client in (websocket_client, polling_client):
            assert client.sio.transport() in ("websocket", "polling")
            assert client.sio.call("subscribe", {"sessionId": "sio"}, timeout=10)["success"] is True
        assert websocket_client.sio.transport() == "websocket"
        reply = proxy.post("/api/sandbox/sio/inbound", json={"from": "51999000111", "text": "por nginx"}, headers=KEY)
        for client in (websocket_client, polling_client):
            assert client.next("message-received")["data"]["messageId"] == reply.json()["messageId"]
    finally:
        websocket_client.close()
        polling_client.close()
    forged = Client(http_session=verified)
    with pytest.raises(socketio.exceptions.ConnectionError):
        forged.connect(proxy, "polling", headers={"X-Forwarded-For": CLIENT_ADDRESS})
    assert forged.refusals[0]["data"]["error"] == "unauthorized"


def test_media_is_served_from_disk_by_nginx(proxy):
    proxy.post("/api/sessions", json={"sessionId": "media", "engine": "sandbox", "start": True}, headers=KEY)
    proxy.post("/api/sandbox/media/scan", json={}, headers=KEY)
    document = os.urandom(300_000)  # bigger than nginx's in-memory body buffer: spooled to disk
    media = {"base64": base64.b64encode(document).decode(), "mimetype": "application/pdf", "filename": "factura.pdf"}
    reply = proxy.post("/api/sandbox/media/inbound", json={"from": "51999000111", "media": media}, headers=KEY)
    assert reply.status_code == 200, reply.text
    received = proxy.get("/api/events", params={"type": "message-received", "sessionId": "media"}, headers=KEY)
    [event] = received.json()["events"]
    file_url = event["data"]["media"]["fileUrl"]
    assert file_url.startswith(proxy.url + "/uploads/")

    served = requests.get(file_url, verify=str(proxy.cert), timeout=10)
    assert served.status_code == 200 and served.content == document
    assert served.headers["Cache-Control"] == "public, max-age=86400"  # set only by the /uploads/ location
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    for escape in ("/uploads/../hub.db", "/uploads/..%2fhub.db", "/uploads/"):
        assert proxy.get(escape).status_code in (401, 403, 404), escape


def test_body_over_the_limit_is_refused_with_413_before_it_is_sent(proxy):
    context = ssl.create_default_context(cafile=str(proxy.cert))
    connection = http.client.HTTPSConnection("127.0.0.1", proxy.https_port, context=context, timeout=10)
    connection.putrequest("POST", "/api/whatsapp/send")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(91 * 1024 * 1024))  # client_max_body_size is 90m
    connection.putheader("X-API-Key", API_KEY)
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["error"] == "body_too_large"
    connection.close()


def test_the_access_log_has_paths_without_query_strings(proxy):
    secret = "never-log-this-key-3f9a"
    assert proxy.get(f"/api/sessions?apiKey={secret}&limit=5").status_code == 403
    assert proxy.get(f"/ws/events?apiKey={secret}").status_code in (400, 403)
    plain = requests.get(f"http://127.0.0.1:{proxy.http_port}/api/health?apiKey={secret}", allow_redirects=False,
                         timeout=5)
    assert plain.status_code == 301

    def logged():
        text = proxy.access_log.read_text() if proxy.access_log.exists() else ""
        return text if text.count("/api/sessions") and text.count("/api/health") else None
    text = proxy.hub.wait_for(logged, timeout=5)
    assert secret not in text and '"GET /api/sessions HTTP/' in text


@pytest.mark.parametrize("extension", ["js", "html", "svg", "xml", "xhtml", "css", "bin"])
def test_uploads_that_a_browser_could_run_are_opaque_attachments(proxy, extension):
    from hub.media import storage

    name = storage.new_file_name(None).replace(".bin", f".{extension}")
    (proxy.hub.directory / "uploads" / name).write_bytes(b"alert(1)//<script>alert(2)</script>")
    served = proxy.get(f"/uploads/{name}")
    assert served.status_code == 200 and served.headers["Content-Type"] == "application/octet-stream"
    assert served.headers["Content-Disposition"] == "attachment"
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_uploaded_images_keep_their_type(proxy):
    from hub.media import storage

    image = storage.save(str(proxy.hub.directory / "uploads"), b"\x89PNG", "image/png").name
    served = proxy.get(f"/uploads/{image}")
    assert served.headers["Content-Type"] == "image/png" and served.headers["Content-Disposition"] == "inline"

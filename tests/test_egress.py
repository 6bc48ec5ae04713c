"""Outgoing requests (webhook POSTs, media-URL downloads): the checked address, one total deadline.

Every test here runs with `LoopbackOnly`: any connect to a non-loopback address is refused and
recorded, so a guard that fails open cannot reach another host.
"""
import contextlib
import ipaddress
import socket
import ssl
import subprocess
import threading
import time

import gevent
import pytest
from geventhttpclient.connectionpool import SSLConnectionPool

from hub import urlguard
from hub.config import Config
from hub.delivery.outbox import Job
from hub.delivery.sender import DirectTransport, GeventTransport, Sender
from hub.errors import BadRequest
from hub.media import payload
from tests.receivers import Dripper, LoopbackOnly, Receiver, read_request
from tests.test_urlguard import fake_dns

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TRANSPORTS = {"gevent": lambda: GeventTransport(1.0, 4), "direct": DirectTransport}


@pytest.fixture
def connects(monkeypatch) -> list[tuple]:
    """The (address, port) of every outgoing connect; non-loopback ones are refused."""
    return LoopbackOnly(monkeypatch).targets


@pytest.fixture
def loopback_counts_as_public(monkeypatch):
    """Guard on, but loopback passes as public: the one way to test pinning without leaving the machine."""
    monkeypatch.setattr(urlguard, "is_public", lambda address: ipaddress.ip_address(address).is_loopback)


def job(url: str) -> Job:
    return Job("dlv_1", "ep_1", "evt_1", url, SECRET, {}, b'{"type": "test"}')


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_webhook_goes_to_the_checked_address_not_a_second_answer(transport, monkeypatch, connects,
                                                                 loopback_counts_as_public):
    with Receiver() as receiver:
        port = receiver.server.server_address[1]
        lookups = fake_dns(monkeypatch, {"rebind.test": [["127.0.0.1"], ["10.0.0.7"]]})
        result = Sender(1.0, block_private=True, transport=TRANSPORTS[transport]()).post(
            job(f"http://rebind.test:{port}/hook"))
    assert result.status_code == 200, result.error
    assert lookups == ["rebind.test"] and connects == [("127.0.0.1", port)]
    assert receiver.requests[0]["headers"]["host"] == f"rebind.test:{port}"


def test_media_download_goes_to_the_checked_address(monkeypatch, connects, loopback_counts_as_public):
    from tests.outbound.helpers import FileServer

    server = FileServer({"/menu.pdf": (200, "application/pdf", b"%PDF-1.4 menu")})
    port = server.server.server_address[1]
    lookups = fake_dns(monkeypatch, {"rebind.test": [["127.0.0.1"], ["10.0.0.7"]]})
    try:
        attachment = payload.from_url(f"http://rebind.test:{port}/menu.pdf", None, None, 1 << 20, 5.0,
                                      block_private=True)
    finally:
        server.close()
    assert attachment.data == b"%PDF-1.4 menu" and attachment.filename == "menu.pdf"
    assert lookups == ["rebind.test"] and connects == [("127.0.0.1", port)]


@pytest.fixture(params=[False, True], ids=["guard-off", "guard-on"])
def config(tmp_path, request):
    """The API tests run with HUB_BLOCK_PRIVATE_URLS off and on."""
    return Config.for_tests(tmp_path, block_private_urls=request.param)


def test_backslash_userinfo_trick_reaches_nothing(client, sandbox_session, connects):
    with Receiver() as listener:
        port = listener.server.server_address[1]
        reply = client.post("/api/whatsapp/send", json={"to": "51987654321",
                                                        "media": {"url": f"http://127.0.0.1:{port}\\@1.1.1.1/x"}})
        time.sleep(0.2)
    assert reply.status_code == 400 and reply.get_json()["error"] == "invalid_url"
    assert listener.requests == [] and connects == []


def test_stored_url_with_userinfo_is_not_posted(connects):
    with Receiver() as receiver:
        port = receiver.server.server_address[1]
        result = Sender(1.0, block_private=False).post(job(f"http://127.0.0.1:{port}\\@1.1.1.1/hook"))
    assert result.status_code is None and result.error.startswith("blocked:")
    assert receiver.requests == [] and connects == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_dripping_receiver_is_cut_at_the_webhook_timeout(transport, connects):
    dripper = Dripper(interval=0.8)
    try:
        started = time.monotonic()
        result = Sender(1.0, block_private=False, transport=TRANSPORTS[transport]()).post(job(dripper.url()))
        took = time.monotonic() - started
    finally:
        dripper.close()
    assert took < 2.5 and result.latency_ms < 2500
    assert result.status_code is None and result.error.startswith("RequestTimedOut:")
    assert "HUB_WEBHOOK_TIMEOUT" in result.error


def test_a_slow_name_lookup_counts_toward_the_webhook_timeout(monkeypatch, connects, loopback_counts_as_public):
    def slow_dns(host, port, *args, **kwargs):  # a resolver that answers after 3 s (cooperatively, as under gevent)
        gevent.sleep(3)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
    monkeypatch.setattr(socket, "getaddrinfo", slow_dns)
    started = time.monotonic()
    result = Sender(1.0, block_private=True, transport=GeventTransport(1.0, 1)).post(job("http://slow.test:9/hook"))
    assert time.monotonic() - started < 2.5 and result.error.startswith("RequestTimedOut"), result.error
    assert connects == []


def test_gevent_pool_still_works_after_a_cut_mid_send(connects):
    """A deadline that interrupts a POST's send must not leave the origin's pool a connection short."""
    sender = Sender(1.5, block_private=False, transport=GeventTransport(1.5, 1))  # a pool of one connection
    dripper = Dripper(slow=1)  # reads the head only: a big body fills the socket buffers and the send blocks
    try:
        big = Job("dlv_1", "ep_1", "evt_1", dripper.url(), SECRET, {}, b"x" * (64 << 20))
        cut = sender.post(big)
        assert cut.error.startswith("RequestTimedOut"), cut.error
        after = sender.post(job(dripper.url()))  # the same origin, answered at once
        assert after.status_code == 200, after.error
    finally:
        dripper.close()


def test_a_dripping_media_url_is_cut_at_the_media_timeout(connects):
    dripper = Dripper(interval=0.8, answer=b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    try:
        started = time.monotonic()
        with pytest.raises(BadRequest) as failed:
            payload.from_url(dripper.url("/menu.pdf"), None, None, 1 << 20, 1.0)
        took = time.monotonic() - started
    finally:
        dripper.close()
    assert took < 2.5 and failed.value.code == "media_download_failed"
    assert "RequestTimedOut" in failed.value.message


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch):
    """A TLS receiver on 127.0.0.1 whose certificate names only crm.test (trusted here); records SNI names."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", str(key),
                    "-out", str(cert), "-subj", "/CN=crm.test", "-addext", "subjectAltName=DNS:crm.test"],
                   check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.setitem(SSLConnectionPool.default_options, "ca_certs", str(cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True) as tls:
                read_request(tls)
                tls.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1], names
    listener.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_https_to_a_pinned_address_keeps_the_name_for_sni_and_the_certificate(
        transport, tls_receiver, monkeypatch, connects, loopback_counts_as_public):
    port, names = tls_receiver
    fake_dns(monkeypatch, {"crm.test": [["127.0.0.1"], ["10.0.0.7"]]})
    result = Sender(2.0, block_private=True, transport=TRANSPORTS[transport]()).post(job(f"https://crm.test:{port}/h"))
    assert result.status_code == 204, result.error  # the certificate names crm.test, not 127.0.0.1
    assert names == ["crm.test"] and connects == [("127.0.0.1", port)]

"""Inbound media on the sandbox: recorded, downloaded to uploads/, served at fileUrl; failures."""
from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from pathlib import Path

import pytest

from hub.media import downloads, retention
from hub.store import MediaFile, utcnow
from tests.outbound.helpers import PDF, PNG, events


def receive(client, data: bytes, mimetype: str, **media):
    body = {"from": "51987654321", "text": "mire", "media": {"base64": base64.b64encode(data).decode(),
                                                             "mimetype": mimetype, **media}}
    reply = client.post("/api/sandbox/shop/inbound", json=body)
    assert reply.status_code == 200, reply.get_json()
    return events(client, "message-received")[-1]["data"]


@pytest.mark.parametrize("data,mimetype,filename,kind,shown", [
    (PNG, "image/png", None, "image", r"IMG-\d{8}-WA\d{6}\.png"),
    (PDF, "application/pdf", "Factura F001.pdf", "document", r"Factura F001\.pdf"),
])
def test_media_is_stored_and_its_url_serves_the_same_bytes(client, hub, sandbox_session, data, mimetype, filename,
                                                           kind, shown):
    event = receive(client, data, mimetype, filename=filename)
    media = event["media"]
    assert event["type"] == kind
    assert media["sha256"] == hashlib.sha256(data).hexdigest() and media["fileSize"] == len(data)
    assert re.fullmatch(shown, media["originalName"]) and media["mimetype"] == mimetype
    assert media["fileUrl"] == f"{hub.config.public_url}/uploads/{media['fileName']}"
    assert media["fileName"].endswith(".png" if kind == "image" else ".pdf")
    assert (Path(hub.config.uploads_dir) / media["fileName"]).read_bytes() == data
    served = client.raw.get(f"/uploads/{media['fileName']}")  # public: no API key
    assert served.status_code == 200 and hashlib.sha256(served.data).hexdigest() == media["sha256"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    disposition = served.headers.get("Content-Disposition", "")
    assert disposition.startswith("attachment") == (kind == "document")
    [row] = client.get("/api/messages/shop").get_json()["messages"]
    assert row["media"] == media


@pytest.mark.parametrize("sent_as, shown", [
    ("C:\\Users\\ana\\Escritorio\\Cotización final.pdf", re.escape("Cotización final.pdf")),
    ("/etc/passwd", "passwd"),
    ("...", r"DOC-\d{8}-WA\d{6}\.pdf"),  # nothing left of the name: named like a nameless file
])
def test_the_senders_document_name_is_a_display_string(client, sandbox_session, sent_as, shown):
    media = receive(client, PDF, "application/pdf", filename=sent_as)["media"]
    assert re.fullmatch(shown, media["originalName"]), media["originalName"]


def test_a_photo_without_a_name_gets_whatsapps_style_of_name(client, sandbox_session):
    event = receive(client, PNG, "image/jpeg", filename="foto-del-pedido.jpg")
    stamp = event["timestamp"].replace("-", "").replace(":", "")  # 20261130T093012...
    assert event["media"]["originalName"] == f"IMG-{stamp[:8]}-WA{stamp[9:15]}.jpg"


def test_a_failed_download_still_sends_the_event_with_media_error(client, sandbox_session):
    event = receive(client, PNG, "image/png", failDownload=True)
    assert event["text"] == "mire"
    assert set(event["media"]) == {"error", "mimetype", "originalName"} and event["media"]["error"]


def test_a_download_over_the_size_limit_or_time_limit_is_an_error(client, hub, sandbox_session, monkeypatch):
    engine = hub.sessions.engine_of("shop")
    monkeypatch.setattr(engine, "download_media", lambda event: b"x" * 2000)
    object.__setattr__(hub.config, "max_media_mb", 0.001)  # 1048 bytes
    assert "HUB_MAX_MEDIA_MB" in receive(client, PNG, "image/png")["media"]["error"]
    monkeypatch.setattr(engine, "download_media", lambda event: time.sleep(2) or b"late")
    object.__setattr__(hub.config, "media_timeout", 0.2)
    started = time.monotonic()
    assert "HUB_MEDIA_TIMEOUT" in receive(client, PNG, "image/png")["media"]["error"]
    assert time.monotonic() - started < 1.5
    assert list(Path(hub.config.uploads_dir).glob("*")) == []  # nothing half-stored


def test_the_message_is_recorded_before_the_download_starts(client, hub, sandbox_session, monkeypatch):
    seen = []
    engine = hub.sessions.engine_of("shop")
    real = engine.download_media

    def watching(event):
        with hub.store.session() as db:
            seen.append([(row.status, row.original_name) for row in db.query(MediaFile)])
        return real(event)

    monkeypatch.setattr(engine, "download_media", watching)
    receive(client, PDF, "application/pdf", filename="a.pdf")
    assert seen == [[("downloading", "a.pdf")]]
    assert client.get("/api/messages/shop").get_json()["messages"][0]["media"]["sha256"]


def test_downloads_interrupted_by_a_restart_are_finished(client, hub, sandbox_session, monkeypatch):
    engine = hub.sessions.engine_of("shop")
    real = engine.download_media
    monkeypatch.setattr(engine, "download_media", lambda event: (_ for _ in ()).throw(SystemExit("crash")))
    with pytest.raises(SystemExit):  # the process "dies" mid-download
        receive(client, PDF, "application/pdf", filename="a.pdf")
    assert events(client, "message-received") == []
    monkeypatch.setattr(engine, "download_media", real)
    assert downloads.retry_interrupted(hub.sessions, utcnow()) == 1
    [event] = events(client, "message-received")
    assert event["data"]["media"]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert downloads.retry_interrupted(hub.sessions, utcnow()) == 0


def test_uploads_never_serve_anything_outside_uploads(client, hub, sandbox_session, tmp_path):
    receive(client, PDF, "application/pdf")
    for path in ["/uploads/../hub.db", "/uploads/..%2Fhub.db", "/uploads/%2E%2E%2Fhub.db", "/uploads/hub.key",
                 "/uploads/.gitkeep", "/uploads/..", "/uploads/%2e%2e/hub.db", "/uploads//etc/passwd"]:
        reply = client.raw.get(path)
        assert reply.status_code in (401, 404), path  # no route matched: not public, so 401
        assert b"SQLite" not in reply.data


def test_retention_deletes_old_files_and_marks_them_expired(client, hub, sandbox_session):
    media = receive(client, PDF, "application/pdf")["media"]
    path = Path(hub.config.uploads_dir) / media["fileName"]
    assert retention.purge(hub) == []
    old = time.time() - (hub.config.media_retention_days + 1) * 86400
    os.utime(path, (old, old))
    assert retention.purge(hub) == [media["fileName"]]
    assert not path.exists() and client.raw.get(f"/uploads/{media['fileName']}").status_code == 404
    with hub.store.session() as db:
        assert [row.status for row in db.query(MediaFile)] == ["expired"]


def test_a_senders_file_name_reaches_receivers_without_path_parts_or_control_characters(client, sandbox_session):
    event = receive(client, PDF, "application/pdf", filename="../../evil\u202e\r\nlmth.pdf")
    assert event["media"]["originalName"] == "evillmth.pdf"
    assert receive(client, PDF, "application/pdf", filename="..\\..\\evil.html")["media"]["originalName"] == "evil.html"

"""HUB_MEDIA_STORE=s3://…: inbound media goes to the bucket, /uploads/<name> streams it back, retention deletes it.

Against a real S3-compatible server (moto's server mode) on loopback, started by tests/s3server.py.
"""
from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path

import pytest

from hub.app import create_app
from hub.config import Config, ConfigError
from hub.media import retention
from hub.media.stores import media_store
from tests.conftest import ApiClient
from tests.outbound.helpers import PDF, PNG, events
from tests.s3server import new_bucket, s3_endpoint  # noqa: F401 (a fixture)

BUCKET = "hub-media"


@pytest.fixture
def bucket(s3_endpoint):  # noqa: F811
    name = f"{BUCKET}-{time.monotonic_ns()}"
    return name, new_bucket(s3_endpoint, name)


@pytest.fixture
def s3_hub(tmp_path, s3_endpoint, bucket):  # noqa: F811
    """An app whose media store is the bucket under the prefix `media/`, with a connected sandbox session."""
    config = Config.for_tests(tmp_path, media_store=f"s3://{bucket[0]}/media", s3_endpoint=s3_endpoint)
    app = create_app(config)
    client = ApiClient(app.test_client())
    created = client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox", "start": True})
    assert created.status_code == 201
    assert client.post("/api/sandbox/shop/scan", json={}).status_code == 200
    yield app.extensions["hub"], client
    app.extensions["hub"].sessions.stop_all()
    app.extensions["hub"].store.dispose()


def receive(client, data: bytes, mimetype: str) -> dict:
    body = {"from": "51987654321", "media": {"base64": base64.b64encode(data).decode(), "mimetype": mimetype}}
    assert client.post("/api/sandbox/shop/inbound", json=body).status_code == 200
    return events(client, "message-received")[-1]["data"]["media"]


def test_inbound_media_lands_in_the_bucket_and_its_url_serves_it(s3_hub, bucket):
    hub, client = s3_hub
    media = receive(client, PNG, "image/png")
    stored = bucket[1].get_object(Bucket=bucket[0], Key=f"media/{media['fileName']}")
    assert stored["Body"].read() == PNG and stored["ContentType"] == "image/png"
    assert not Path(hub.config.uploads_dir, media["fileName"]).exists()  # not on this process's disk
    served = client.raw.get(f"/uploads/{media['fileName']}")
    assert served.status_code == 200 and hashlib.sha256(served.data).hexdigest() == media["sha256"]
    assert served.headers["Content-Type"] == "image/png" and served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"].startswith("inline")
    assert served.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_documents_are_attachments_ranges_and_revalidation_work(s3_hub):
    _, client = s3_hub
    name = receive(client, PDF, "application/pdf")["fileName"]
    whole = client.raw.get(f"/uploads/{name}")
    assert whole.headers["Content-Disposition"].startswith("attachment") and whole.data == PDF
    part = client.raw.get(f"/uploads/{name}", headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and part.data == PDF[:4]
    assert part.headers["Content-Range"] == f"bytes 0-3/{len(PDF)}"
    assert client.raw.get(f"/uploads/{name}", headers={"If-None-Match": whole.headers["ETag"]}).status_code == 304
    beyond = client.raw.get(f"/uploads/{name}", headers={"Range": f"bytes={len(PDF) + 10}-"})
    assert beyond.status_code == 416


@pytest.mark.parametrize("name", ["1795344671827_f6452e3f4e3bb930.pdf", "media", "notours.txt", ".notours.txt.part"])
def test_names_the_bucket_does_not_hold_for_the_hub_are_404(s3_hub, bucket, name):
    _, client = s3_hub
    bucket[1].put_object(Bucket=bucket[0], Key="media/notours.txt", Body=b"secret")
    missing = client.raw.get(f"/uploads/{name}")
    assert missing.status_code == 404 and missing.get_json()["error"] == "file_not_found"


def test_retention_deletes_old_objects_only_the_hubs_and_marks_their_rows(s3_hub, bucket):
    hub, client = s3_hub
    name = receive(client, PNG, "image/png")["fileName"]
    bucket[1].put_object(Bucket=bucket[0], Key="media/notours.txt", Body=b"keep")
    bucket[1].put_object(Bucket=bucket[0], Key="elsewhere/1795344671827_f6452e3f4e3bb930.png", Body=b"keep")
    assert retention.purge(hub) == []  # nothing is old yet
    store = media_store(hub.config)
    assert store.delete_older_than(hub.config.media_retention_days, now=time.time() + 31 * 86400) == [name]
    keys = sorted(item["Key"] for item in bucket[1].list_objects_v2(Bucket=bucket[0])["Contents"])
    assert keys == ["elsewhere/1795344671827_f6452e3f4e3bb930.png", "media/notours.txt"]
    assert client.raw.get(f"/uploads/{name}").status_code == 404


@pytest.mark.parametrize("value", ["s3://", "s3://UPPER/x", "s3://b/../x", "gs://bucket/x", "s3://a"])
def test_an_unusable_media_store_is_a_start_up_error_naming_the_variable(value):
    with pytest.raises(ConfigError, match="HUB_MEDIA_STORE"):
        Config.from_env({"HUB_MEDIA_STORE": value}, dotenv_path="/nonexistent")

"""/uploads/<name>: files a browser could run are served as opaque attachments, everything with nosniff."""
from __future__ import annotations

from pathlib import Path

import pytest

from hub.media import storage


@pytest.mark.parametrize("extension", ["js", "mjs", "html", "xhtml", "svg", "xml", "css", "bin", "es"])
def test_active_and_unknown_types_are_opaque_attachments(client, hub, extension):
    name = storage.save(hub.config.uploads_dir, b"alert(document.domain)//<svg onload=alert(1)>", None).name
    uploads = Path(hub.config.uploads_dir)
    name = (uploads / name).rename(uploads / name.replace(".bin", f".{extension}")).name
    served = client.raw.get(f"/uploads/{name}")
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "application/octet-stream"
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert served.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("mimetype,disposition", [("image/png", "inline"), ("audio/ogg", "inline"),
                                                  ("application/pdf", "attachment"), ("text/plain", "attachment")])
def test_media_and_documents_keep_their_type(client, hub, mimetype, disposition):
    name = storage.save(hub.config.uploads_dir, b"bytes", mimetype).name
    served = client.raw.get(f"/uploads/{name}")
    assert served.headers["Content-Type"].split(";")[0] == mimetype
    assert served.headers.get("Content-Disposition", "inline").startswith(disposition)
    assert served.headers["X-Content-Type-Options"] == "nosniff"

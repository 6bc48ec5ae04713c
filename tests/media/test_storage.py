"""Stored file names, safe lookups and retention in HUB_UPLOADS_DIR."""
from __future__ import annotations

import os
import time

import pytest

from hub.media import storage


@pytest.mark.parametrize("mimetype,extension", [
    ("image/jpeg", "jpg"), ("audio/ogg; codecs=opus", "ogg"), ("application/pdf", "pdf"),
    ("image/png", "png"), ("video/mp4", "mp4"), ("application/x-unknown-thing", "bin"), (None, "bin"),
])
def test_extension_comes_from_the_mimetype(mimetype, extension):
    assert storage.extension_for(mimetype) == extension
    assert storage.new_file_name(mimetype).endswith("." + extension)


def test_names_are_collision_free_and_match_what_is_served(tmp_path):
    names = {storage.save(str(tmp_path), b"x", "image/png").name for _ in range(200)}
    assert len(names) == 200
    assert all(storage.STORED_NAME.match(name) for name in names)


@pytest.mark.parametrize("name", ["../hub.db", "..", ".", "hub.db", "/etc/passwd", "..%2Fhub.db",
                                  "1795344671827_f6452e3f4e3bb930.pdf/../../hub.db",
                                  ".1795344671827_f6452e3f4e3bb930.pdf.part"])
def test_only_generated_names_directly_in_uploads_are_found(tmp_path, name):
    (tmp_path / "hub.db").write_bytes(b"secret")
    assert storage.stored_path(str(tmp_path / "uploads"), name) is None


def test_retention_deletes_only_old_stored_files(tmp_path):
    old = storage.save(str(tmp_path), b"old", "application/pdf")
    new = storage.save(str(tmp_path), b"new", "application/pdf")
    (tmp_path / ".gitkeep").write_bytes(b"")
    ten_days_ago = time.time() - 10 * 86400
    os.utime(tmp_path / old.name, (ten_days_ago, ten_days_ago))
    os.utime(tmp_path / ".gitkeep", (ten_days_ago, ten_days_ago))
    assert storage.delete_older_than(str(tmp_path), days=7) == [old.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([new.name, ".gitkeep"])

"""GET /uploads/<name> (public): downloaded media files, served safely.

Only names the hub generated are served, only from HUB_UPLOADS_DIR itself (no sub-paths).
Every response carries `nosniff` and a sandboxing CSP; anything that is not an image, audio
or video (and SVG, which can hold scripts) is sent as an attachment, never rendered inline, and
scripts, markup and unknown types are labelled application/octet-stream (storage.mimetype_of).
"""
from __future__ import annotations

from pathlib import Path

from flask import Response, send_file
from pydantic import Field

from hub.api.common import Model, blueprint, hub
from hub.api.responses import answers, content
from hub.errors import NotFound
from hub.media import storage

bp = blueprint("media", "Downloaded media files (public URLs)", url_prefix="", public=True)

INLINE_TYPES = ("image/", "audio/", "video/")


class UploadPath(Model):
    name: str = Field(max_length=64, description="File name from a media.fileUrl")


@bp.get("/uploads/<name>", security=[],
        responses=answers({200: content("*/*", "The file", {"type": "string", "format": "binary"})}, 404))
def uploaded_file(path: UploadPath):
    """A stored media file (public, like its fileUrl)."""
    file = storage.stored_path(hub().config.uploads_dir, path.name)
    if file is None:
        raise NotFound("No such media file (it may have expired).", code="file_not_found")
    return file_response(file)


def file_response(file: Path) -> Response:
    """The file with headers that keep a browser from running or sniffing it."""
    mimetype = storage.mimetype_of(file.name)
    inline = mimetype.startswith(INLINE_TYPES) and mimetype != "image/svg+xml"
    response = send_file(file, mimetype=mimetype, as_attachment=not inline, download_name=file.name,
                         conditional=True, max_age=86400)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response

"""GET /uploads/<name> (public): downloaded media files, served safely.

Only names the hub generated are served, only from the media store itself (HUB_UPLOADS_DIR, or the
bucket of HUB_MEDIA_STORE; no sub-paths).
Every response carries `nosniff` and a sandboxing CSP; anything that is not an image, audio
or video (and SVG, which can hold scripts) is sent as an attachment, never rendered inline, and
scripts, markup and unknown types are labelled application/octet-stream (storage.mimetype_of).
"""
from __future__ import annotations

import re
from pathlib import Path

from flask import Response, request, send_file
from pydantic import Field
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from hub.api.common import Model, blueprint, hub
from hub.api.responses import answers, content
from hub.errors import NotFound
from hub.media import storage
from hub.media.stores import NotModified, RangeNotSatisfiable, S3Store, media_store

bp = blueprint("media", "Downloaded media files (public URLs)", url_prefix="", public=True)

INLINE_TYPES = ("image/", "audio/", "video/")
BINARY = {"type": "string", "format": "binary"}
SINGLE_RANGE = re.compile(r"^bytes=(\d+-\d*|-\d+)$")


class UploadPath(Model):
    name: str = Field(max_length=64, description="File name from a media.fileUrl")


@bp.get("/uploads/<name>", security=[],
        responses=answers({200: content("*/*", "The file", BINARY),
                           206: content("*/*", "The asked-for byte range", BINARY),
                           304: {"description": "Not modified (If-None-Match)"}}, 404, 416))
def uploaded_file(path: UploadPath):
    """A stored media file (public, like its fileUrl)."""
    store = media_store(hub().config)
    if isinstance(store, S3Store):
        return object_response(store, path.name)
    file = store.path(path.name)
    if file is None:
        raise _expired()
    return file_response(file)


def file_response(file: Path) -> Response:
    """The file with headers that keep a browser from running or sniffing it."""
    response = send_file(file, mimetype=storage.mimetype_of(file.name), as_attachment=not _inline(file.name),
                         download_name=file.name, conditional=True, max_age=86400)
    return _guarded(response)


def object_response(store: S3Store, name: str) -> Response:
    """The object streamed from the bucket, with the same headers (and Range / If-None-Match passed on)."""
    try:
        found = store.open(name, _single_range(request.headers.get("Range")), request.headers.get("If-None-Match"))
    except NotModified:
        return _guarded(Response(status=304))
    except RangeNotSatisfiable:
        raise RequestedRangeNotSatisfiable() from None  # the same JSON error as a file on disk gets
    if found is None:
        raise _expired()
    response = Response(found.chunks, status=206 if found.content_range else 200,
                        mimetype=storage.mimetype_of(name), direct_passthrough=True)
    response.headers["Content-Length"] = str(found.size)
    if found.content_range:
        response.headers["Content-Range"] = found.content_range
    response.headers.update({"Accept-Ranges": "bytes", "ETag": found.etag, "Cache-Control": "public, max-age=86400",
                             "Content-Disposition": f"{'inline' if _inline(name) else 'attachment'}; filename={name}"})
    response.last_modified = found.modified
    return _guarded(response)


def _single_range(header: str | None) -> str | None:
    """One `bytes=a-b` range passed on to the bucket; anything else is ignored (the whole file, 200)."""
    return header if header and SINGLE_RANGE.match(header) else None


def _inline(name: str) -> bool:
    mimetype = storage.mimetype_of(name)
    return mimetype.startswith(INLINE_TYPES) and mimetype != "image/svg+xml"


def _guarded(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _expired() -> NotFound:
    return NotFound("No such media file (it may have expired).", code="file_not_found")

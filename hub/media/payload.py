"""Media a sender attaches: base64, a data URL or an http(s) URL -> bytes with their metadata."""
from __future__ import annotations

import base64
import binascii
import mimetypes
import posixpath
import re
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import requests

from hub.delivery.urlguard import validate_url
from hub.errors import BadRequest, PayloadTooLarge

_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?((?:;[^,;]*)*?);base64,", re.IGNORECASE)
_CHUNK = 64 * 1024
FALLBACK_MIMETYPE = "application/octet-stream"


@dataclass
class Attachment:
    """Media bytes ready to send."""

    data: bytes
    mimetype: str
    filename: str | None = None

    @property
    def kind(self) -> str:
        return media_kind(self.mimetype)


def media_kind(mimetype: str) -> str:
    """image / video / audio by the mimetype's major type; everything else is a document."""
    major = mimetype.split("/", 1)[0].lower()
    return major if major in ("image", "video", "audio") else "document"


def too_large(size: int, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The file is {size} bytes; the limit is {limit} (HUB_MAX_MEDIA_MB).")


def decode_base64(text: str, limit: int, field: str = "media.base64") -> bytes:
    """Strict base64 (or a data URL) -> bytes; 400 when invalid, 413 over `limit` bytes."""
    payload = text.split(",", 1)[1] if text.startswith("data:") else text
    if len(payload) * 3 // 4 > limit + 3:  # refuse before decoding a huge string
        raise too_large(len(payload) * 3 // 4, limit)
    try:
        data = base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"{field} is not valid base64.", code="invalid_base64") from None
    if len(data) > limit:
        raise too_large(len(data), limit)
    return data


def data_url_mimetype(text: str) -> str | None:
    """The mimetype a data URL declares (`data:application/pdf;base64,...`), if any."""
    match = _DATA_URL.match(text)
    return match.group(1).lower() if match and match.group(1) else None


def guess_mimetype(filename: str | None) -> str | None:
    return mimetypes.guess_type(filename)[0] if filename else None


def display_name(filename: str | None) -> str | None:
    """The name the recipient sees: no directories, no control characters."""
    if not filename:
        return None
    name = posixpath.basename(filename.replace("\\", "/"))
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:255] or None


def from_base64(text: str, mimetype: str | None, filename: str | None, limit: int,
                field: str = "media.base64") -> Attachment:
    """An attachment from base64 or a data URL; the mimetype comes from the caller, the data URL or the name."""
    data = decode_base64(text, limit, field)
    name = display_name(filename)
    mimetype = mimetype or data_url_mimetype(text) or guess_mimetype(name) or FALLBACK_MIMETYPE
    return Attachment(data, mimetype.lower(), name)


def from_url(url: str, mimetype: str | None, filename: str | None, limit: int, timeout: float,
             block_private: bool = False) -> Attachment:
    """Download an http(s) URL (size-limited, with a timeout); 400 when it fails, 413 when too large.

    With HUB_BLOCK_PRIVATE_URLS the same guard as for webhooks applies, and redirects are not
    followed (a public URL could otherwise redirect the hub to a private address).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest("media.url must be an http:// or https:// URL.", code="invalid_media_url")
    validate_url(url, block_private, field="media.url")
    data, served_type = _download(url, limit, timeout, follow_redirects=not block_private)
    name = display_name(filename) or display_name(unquote(parts.path))
    mimetype = mimetype or served_type or guess_mimetype(name) or FALLBACK_MIMETYPE
    return Attachment(data, mimetype.lower(), name)


def _download(url: str, limit: int, timeout: float, follow_redirects: bool = True) -> tuple[bytes, str | None]:
    """(body, Content-Type without parameters); raises BadRequest / PayloadTooLarge."""
    try:
        with requests.get(url, stream=True, timeout=(min(timeout, 10), timeout),
                          allow_redirects=follow_redirects) as response:
            if response.status_code != 200:
                raise BadRequest(f"media.url answered HTTP {response.status_code}.", code="media_download_failed")
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > limit:
                raise too_large(declared, limit)
            body = _read_limited(response, limit, time.monotonic() + timeout)
            served = response.headers.get("Content-Type", "").split(";", 1)[0].strip() or None
    except requests.RequestException as exc:
        raise BadRequest(f"media.url could not be downloaded: {type(exc).__name__}.",
                         code="media_download_failed") from None
    return body, served if served != FALLBACK_MIMETYPE else None


def _read_limited(response, limit: int, deadline: float) -> bytes:
    """The body, refused past `limit` bytes or past `deadline` (a slow drip is a timeout too)."""
    chunks, size = [], 0
    for chunk in response.iter_content(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise too_large(size, limit)
        if time.monotonic() > deadline:
            raise requests.Timeout("the download took longer than HUB_MEDIA_TIMEOUT")
        chunks.append(chunk)
    return b"".join(chunks)

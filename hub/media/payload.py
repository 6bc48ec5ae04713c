"""Media a sender attaches: base64, a data URL or an http(s) URL -> bytes with their metadata."""
from __future__ import annotations

import base64
import binascii
import mimetypes
import posixpath
import re
from dataclasses import dataclass
from http.client import HTTPException
from urllib.parse import unquote, urljoin, urlsplit

import urllib3

from hub import egress, urlguard
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
    sent_as: str | None = None  # voice, sticker: how it goes out when not just by its mimetype

    @property
    def kind(self) -> str:
        return self.sent_as or media_kind(self.mimetype)


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
    """Download an http(s) URL (size-limited, HUB_MEDIA_TIMEOUT in all); 400 when it fails, 413 when too large.

    The URL guard of webhooks applies (hub/urlguard.py); with HUB_BLOCK_PRIVATE_URLS redirects
    are not followed (a public URL could otherwise redirect the hub to a private address).
    """
    if urlsplit(url).scheme not in ("http", "https"):
        raise BadRequest("media.url must be an http:// or https:// URL.", code="invalid_media_url")
    urlguard.parse(url, field="media.url")  # refused before anything is resolved or fetched
    try:
        with egress.deadline(timeout, f"the download took longer than {timeout:g} s (HUB_MEDIA_TIMEOUT)") as within:
            data, served_type, url = _download(url, limit, within, block_private, 0 if block_private else MAX_REDIRECTS)
    except (egress.RequestTimedOut, *DOWNLOAD_ERRORS) as exc:
        raise BadRequest(f"media.url could not be downloaded: {type(exc).__name__}.",
                         code="media_download_failed") from None
    name = display_name(filename) or display_name(unquote(urlsplit(url).path))
    mimetype = mimetype or served_type or guess_mimetype(name) or FALLBACK_MIMETYPE
    return Attachment(data, mimetype.lower(), name)


MAX_REDIRECTS = 5  # followed only while HUB_BLOCK_PRIVATE_URLS is off
REDIRECTS = (301, 302, 303, 307, 308)
DOWNLOAD_ERRORS = (urllib3.exceptions.HTTPError, HTTPException, OSError)


def _download(url: str, limit: int, within: egress.Deadline, block_private: bool,
              redirects: int) -> tuple[bytes, str | None, str]:
    """(body, Content-Type without parameters, final URL); raises BadRequest / PayloadTooLarge."""
    destination = urlguard.check(url, block_private, field="media.url")
    with egress.exchange(destination, "GET", within) as response:
        location = response.headers.get("Location")
        if not (response.status in REDIRECTS and location and redirects > 0):
            return *_body(response, limit), url
    return _download(urljoin(url, location), limit, within, block_private, redirects - 1)


def _body(response, limit: int) -> tuple[bytes, str | None]:
    """A 200 answer's body and Content-Type (without parameters); BadRequest for any other status."""
    if response.status != 200:
        raise BadRequest(f"media.url answered HTTP {response.status}.", code="media_download_failed")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(int(declared), limit)
    body = _read_limited(response, limit)
    served = response.headers.get("Content-Type", "").split(";", 1)[0].strip() or None
    return body, served if served != FALLBACK_MIMETYPE else None


def _read_limited(response, limit: int) -> bytes:
    """The body, refused past `limit` bytes (the deadline bounds the time it takes)."""
    chunks, size = [], 0
    while chunk := response.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)

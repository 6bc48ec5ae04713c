"""A text message's link preview (README.md, "Link previews").

`linkPreview: {title?, description?, url?}` is sent as given. `linkPreview: true` makes the hub
fetch the first http(s) URL of the text once, when it accepts the send: through the URL guard
(HUB_BLOCK_PRIVATE_URLS), within PREVIEW_SECONDS for the whole fetch and at most PREVIEW_BYTES of
the page. A page that cannot be fetched does not stop the message: it goes with the link and no
title, as WhatsApp shows a link it could not preview.
"""
from __future__ import annotations

import html
import re

from hub.config import Config
from hub.errors import BadRequest, HubError
from hub.media import payload

URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
PREVIEW_SECONDS = 5.0
PREVIEW_BYTES = 512 * 1024
MAX_FIELD = 1024


def link_preview(config: Config, value: bool | dict, text: str) -> dict:
    """{url, title?, description?}: as given, or fetched from the text's first link; 400 without a link."""
    given = value if isinstance(value, dict) else {}
    url = given.get("url") or first_url(text)
    if not url or url not in text:
        raise BadRequest("linkPreview needs an http(s) URL in the message text (and a given url must be in it).",
                         code="invalid_link_preview")
    if isinstance(value, dict):
        return _clean({"url": url, "title": given.get("title"), "description": given.get("description")})
    return _clean({"url": url, **fetch_page_facts(config, url)})


def first_url(text: str) -> str | None:
    """The first http(s) link of a text, without trailing punctuation."""
    match = URL.search(text)
    return match.group(0).rstrip(".,;:!?)]}") if match else None


def fetch_page_facts(config: Config, url: str) -> dict:
    """The page's title and description (Open Graph first), or {} when it cannot be fetched."""
    try:
        page = payload.from_url(url, None, None, PREVIEW_BYTES, min(config.media_timeout, PREVIEW_SECONDS),
                                config.block_private_urls)
    except HubError:  # refused by the guard, too slow, too large, not 200: no preview, the message still goes
        return {}
    if "html" not in page.mimetype:
        return {}
    return page_facts(page.data.decode("utf-8", errors="replace"))


def page_facts(document: str) -> dict:
    """og:title / <title> and og:description / description of an HTML document."""
    return {"title": _meta(document, "og:title") or _title(document),
            "description": _meta(document, "og:description") or _meta(document, "description")}


def _meta(document: str, name: str) -> str | None:
    for tag in re.finditer(r"<meta\b[^>]*>", document, re.IGNORECASE):
        attributes = dict((key.lower(), value) for key, _, value in
                          re.findall(r"([\w:-]+)\s*=\s*([\"'])(.*?)\2", tag.group(0), re.DOTALL))
        if name in (attributes.get("property", "").lower(), attributes.get("name", "").lower()):
            return html.unescape(attributes.get("content", "")).strip() or None
    return None


def _title(document: str) -> str | None:
    match = re.search(r"<title[^>]*>(.*?)</title>", document, re.IGNORECASE | re.DOTALL)
    return html.unescape(" ".join(match.group(1).split())) if match else None


def _clean(preview: dict) -> dict:
    return {key: str(value)[:MAX_FIELD] for key, value in preview.items() if value}

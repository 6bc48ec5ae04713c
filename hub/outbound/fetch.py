"""A send's media as bytes: decoded from base64 or a data URL, or downloaded (size-limited, URL guard)."""
from __future__ import annotations

from hub.config import Config
from hub.errors import BadRequest
from hub.media import payload
from hub.media.payload import Attachment
from hub.outbound.request import MediaSpec


def fetch_media(config: Config, media: MediaSpec) -> Attachment:
    """Decode or download the media (size-limited); 400/413 when it cannot be used."""
    sources = [name for name in ("url", "base64", "data_url") if getattr(media, name)]
    if len(sources) != 1:
        raise BadRequest("media needs exactly one of url, base64 or dataUrl.", code="invalid_media")
    limit = config.max_media_bytes
    if media.url:
        return payload.from_url(media.url, media.mimetype, media.filename, limit, config.media_timeout,
                                config.block_private_urls)
    field = "media.base64" if media.base64 else "media.dataUrl"
    return payload.from_base64(media.base64 or media.data_url, media.mimetype, media.filename, limit, field)

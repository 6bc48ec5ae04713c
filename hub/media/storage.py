"""Files in HUB_UPLOADS_DIR: collision-free names, atomic writes, safe lookups, retention."""
from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

# Preferred extensions where mimetypes.guess_extension picks an odd one (or none).
EXTENSIONS = {"image/jpeg": "jpg", "image/webp": "webp", "audio/ogg": "ogg", "audio/mpeg": "mp3",
              "audio/mp4": "m4a", "audio/aac": "aac", "audio/amr": "amr", "video/mp4": "mp4",
              "video/3gpp": "3gp", "application/pdf": "pdf", "text/plain": "txt",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
              "application/msword": "doc", "application/vnd.ms-excel": "xls", "application/zip": "zip"}
OPAQUE = "application/octet-stream"
# Documents served with their own type (always as attachments); every other non-media type is OPAQUE.
PASSIVE_DOCUMENTS = frozenset(mimetype for mimetype in EXTENSIONS if mimetype.startswith("application/")) | {
    "text/plain"}
MAX_DISPLAY_NAME = 255
# What a stored name looks like: <milliseconds>_<random hex>.<ext>. Nothing else is ever served.
STORED_NAME = re.compile(r"^\d{13}_[0-9a-f]{16}\.[a-z0-9]{1,10}$")


@dataclass
class StoredFile:
    name: str
    size: int
    sha256: str


def extension_for(mimetype: str | None) -> str:
    """The file extension for a mimetype ('audio/ogg; codecs=opus' -> 'ogg'); 'bin' when unknown."""
    base = (mimetype or "").split(";", 1)[0].strip().lower()
    if base in EXTENSIONS:
        return EXTENSIONS[base]
    guessed = mimetypes.guess_extension(base) if base else None
    extension = (guessed or ".bin").lstrip(".")
    return extension if re.fullmatch(r"[a-z0-9]{1,10}", extension) else "bin"


def new_file_name(mimetype: str | None) -> str:
    """`<timestamp>_<random>.<ext>`: never derived from the sender's file name."""
    return f"{int(time.time() * 1000):013d}_{secrets.token_hex(8)}.{extension_for(mimetype)}"


def save(uploads_dir: str, data: bytes, mimetype: str | None) -> StoredFile:
    """Write `data` under a new name (via a temp file, so a crash never leaves half a file)."""
    directory = Path(uploads_dir)
    directory.mkdir(parents=True, exist_ok=True)
    name = new_file_name(mimetype)
    temporary = directory / f".{name}.part"
    temporary.write_bytes(data)
    os.replace(temporary, directory / name)
    return StoredFile(name, len(data), hashlib.sha256(data).hexdigest())


def stored_path(uploads_dir: str, name: str) -> Path | None:
    """The file for a public name, or None: only names the hub generated, only directly in uploads/."""
    if not STORED_NAME.match(name):
        return None
    path = Path(uploads_dir).resolve() / name
    return path if path.is_file() else None


def mimetype_of(name: str) -> str:
    """The mimetype a stored file is served with: its own only when a browser cannot run it.

    Scripts, HTML, SVG, XML and unknown types are served as application/octet-stream: a `.js`
    upload served as text/javascript would be a script any page under `script-src 'self'` could load.
    """
    by_extension = {extension: mimetype for mimetype, extension in EXTENSIONS.items()}
    extension = name.rsplit(".", 1)[-1]
    mimetype = by_extension.get(extension) or mimetypes.guess_type(name)[0] or OPAQUE
    return mimetype if is_passive(mimetype) else OPAQUE


def is_passive(mimetype: str) -> bool:
    """Whether a browser only displays or plays this type (never runs it, never parses markup in it)."""
    if mimetype.startswith(("image/", "audio/", "video/")):
        return "xml" not in mimetype  # image/svg+xml holds scripts
    return mimetype in PASSIVE_DOCUMENTS


def display_name(name: str | None) -> str | None:
    """A sender's file name fit to show: no directories, no control or direction-override characters."""
    if not name:
        return None
    base = re.split(r"[\\/]", name)[-1]
    visible = "".join(ch for ch in base if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp"))
    cleaned = visible.strip(" .")[:MAX_DISPLAY_NAME]
    return cleaned or None


def delete_older_than(uploads_dir: str, days: float, now: float | None = None) -> list[str]:
    """Delete stored files (and stale temp files) last modified more than `days` ago; returns their names."""
    directory = Path(uploads_dir)
    if not directory.is_dir():
        return []
    cutoff = (now or time.time()) - days * 86400
    deleted = []
    for path in directory.iterdir():
        ours = STORED_NAME.match(path.name) or path.name.endswith(".part")
        if ours and path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            deleted.append(path.name)
    return deleted

"""Input rules shared by the API's request models, the configuration and the services: each defined once."""
from __future__ import annotations

ENGINE_NAMES = ("neonize", "sandbox")  # the real WhatsApp client, and the simulated phone
ENGINE_PATTERN = "^(" + "|".join(ENGINE_NAMES) + ")$"
SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"  # safe in URLs and as a directory name
MIMETYPE_PATTERN = r"^[\w.+-]+/[\w.+-]+$"  # type/subtype, without parameters
MIMETYPE_MAX_LENGTH = 128  # what the send queue and the media files store
# WhatsApp message ids: "3EB0…" (web, 20-40 hex), 32 hex (Android), "3A…" (iOS); letters and digits.
MESSAGE_ID_PATTERN = r"^[0-9A-Za-z]{4,128}$"

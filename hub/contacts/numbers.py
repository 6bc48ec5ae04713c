"""Phone numbers as callers write them -> the digits WhatsApp knows them by."""
from __future__ import annotations

import re

from hub.errors import BadRequest

_SEPARATORS = re.compile(r"[\s\-+().]")
PHONE_SERVERS = ("s.whatsapp.net", "c.us")


def phone_digits(value) -> str:
    """'+51 987-654-321', 51987654321 or '51987654321@c.us' -> '51987654321'; 400 unless 7-15 digits."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    user, at, server = text.partition("@")
    if at and server not in PHONE_SERVERS:
        raise BadRequest(f"'{value}' is not a phone number (a {server} JID).", code="invalid_phone")
    digits = _SEPARATORS.sub("", user.split(":", 1)[0] if at else user)  # a JID's :device suffix
    if not re.fullmatch(r"[0-9]{7,15}", digits):  # ASCII digits: str.isdigit() takes any script's
        raise BadRequest(f"'{value}' is not a phone number with country code (7 to 15 digits).",
                         code="invalid_phone")
    return digits

"""Phone numbers and JIDs as senders write them -> the JID WhatsApp uses."""
from __future__ import annotations

import re

from hub.errors import BadRequest

_SEPARATORS = re.compile(r"[\s\-+().]")
SERVERS = {"s.whatsapp.net": "s.whatsapp.net", "c.us": "s.whatsapp.net", "g.us": "g.us",
           "lid": "lid", "broadcast": "broadcast", "newsletter": "newsletter"}


def normalise_jid(value: str, field: str = "to") -> str:
    """'+51 987-654-321' / '51987654321@c.us' / '1203...@g.us' -> a canonical JID; 400 otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{field} is required: a phone number with country code or a JID.",
                         code="invalid_recipient")
    user, at, server = value.strip().partition("@")
    if at:
        user = user.split(":", 1)[0]  # drop a device suffix (123:4@s.whatsapp.net)
        if server not in SERVERS:
            raise BadRequest(f"{field} has an unknown JID server '@{server}'.", code="invalid_recipient")
        server = SERVERS[server]
    else:
        user, server = _SEPARATORS.sub("", user), "s.whatsapp.net"
    # ASCII digits only (\d takes any script's); hub/rules.py RECIPIENT_PATTERN documents the same rule.
    pattern = r"^[0-9]{1,20}(-[0-9]{1,20})?$" if server == "g.us" else r"^[0-9]{5,20}$"
    if not re.match(pattern, user):
        raise BadRequest(f"{field} '{value}' is not a phone number with country code or a WhatsApp JID.",
                         code="invalid_recipient")
    return f"{user}@{server}"

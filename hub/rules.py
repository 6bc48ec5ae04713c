"""Input rules shared by the API's request models, the configuration and the services: each defined once."""
from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator

ENGINE_NAMES = ("neonize", "sandbox")  # the real WhatsApp client, and the simulated phone
ENGINE_PATTERN = "^(" + "|".join(ENGINE_NAMES) + ")$"
SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"  # safe in URLs and as a directory name
MIMETYPE_PATTERN = r"^[\w.+-]+/[\w.+-]+$"  # type/subtype, without parameters
MIMETYPE_MAX_LENGTH = 128  # what the send queue and the media files store
# WhatsApp message ids: "3EB0…" (web, 20-40 hex), 32 hex (Android), "3A…" (iOS); letters and digits.
MESSAGE_ID_PATTERN = r"^[0-9A-Za-z]{4,128}$"

# The rules below are checked by services (sessions/jids.py, contacts/numbers.py, urlguard.py), which answer
# with their own error codes; request models publish them in the OpenAPI document as `pattern`s
# (tests/contract checks that the hub accepts what they match and refuses what they do not).
_PHONE_SEPARATORS = r"[\s\-+().]*"  # ignored in phone numbers
_PHONE = rf"{_PHONE_SEPARATORS}(?:[0-9]{_PHONE_SEPARATORS}){{7,15}}"  # 7-15 digits with country code
# A phone number, or its JID (contacts/numbers.phone_digits)
PHONE_PATTERN = rf"^{_PHONE}$|^{_PHONE}(?::[^@]*)?@(?:s\.whatsapp\.net|c\.us)\s*$"
# A phone number, its JID, or a LID (contacts/service._phone_jid)
PHONE_OR_LID_PATTERN = PHONE_PATTERN + r"|^\s*[0-9]{5,20}(?::[^@]*)?@lid$"
_JID_USER = r"[0-9]{5,20}(?::[^@]*)?@(?:s\.whatsapp\.net|c\.us|lid|broadcast|newsletter)"
_GROUP_JID = r"[0-9]{1,20}(?:-[0-9]{1,20})?(?::[^@]*)?@g\.us"
# A phone number with country code (5-20 digits, separators ignored) or a JID (`:device` is dropped).
RECIPIENT_PATTERN = rf"^{_PHONE_SEPARATORS}(?:[0-9]{_PHONE_SEPARATORS}){{5,20}}$|^\s*(?:{_JID_USER}|{_GROUP_JID})\s*$"
NON_BLANK_PATTERN = r"[^\s\x00]"  # text that is more than spaces (NULs are dropped)
# A group id as sessions/groups.group_jid takes it: a group JID, nothing after @g.us.
GROUP_ID_PATTERN = rf"^\s*{_GROUP_JID}$"
# Query values: an empty one means "not given".
OPTIONAL_RECIPIENT_PATTERN = "^$|" + RECIPIENT_PATTERN
RECIPIENT_NUMBER = {"minimum": 10**4, "maximum": 10**20 - 1}  # a recipient sent as a JSON number
_PORT = r"(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})?)?"
_HOST = r"(?:[A-Za-z0-9\-._~%!$&'()*+,;=]+|\[[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}\])"
# An absolute http(s) URL without credentials, backslashes, spaces or control characters (urlguard.parse).
URL_PATTERN = rf"^\s*[Hh][Tt][Tt][Pp][Ss]?://{_HOST}{_PORT}(?:[/?#][^\x00-\x20\x7f\\]*)?\s*$"


def integral(value):
    """A JSON number with no fraction (12.0) is an integer, as JSON Schema says; strict models refuse it otherwise."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# An integer in a JSON body of a strict model: 3600 or 3600.0, never "3600" or 3600.5.
JsonInt = Annotated[int, BeforeValidator(integral)]

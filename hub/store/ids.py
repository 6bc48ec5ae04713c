"""Sortable, unique ids with a readable prefix (evt_…, dlv_…, out_…)."""
from __future__ import annotations

import base64
import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32, as in ULIDs
# base64.b32encode (C) speaks RFC 4648's alphabet; translating its output is ~5x faster than divmod.
_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())


def _base32(value: int, length: int) -> str:
    """`value` as `length` Crockford base32 digits, most significant first."""
    bits = length * 5
    padding = -bits % 8  # left-align the digits in whole bytes; the padding bits end up after them
    encoded = base64.b32encode((value << padding).to_bytes((bits + padding) // 8, "big"))
    return encoded[:length].translate(_TO_CROCKFORD).decode()


def new_id(prefix: str) -> str:
    """A ULID (48-bit milliseconds + 80 random bits) with `prefix_` in front."""
    ulid = int(time.time() * 1000) << 80 | int.from_bytes(os.urandom(10), "big")
    return f"{prefix}_{_base32(ulid, 26)}"

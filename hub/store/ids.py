"""Sortable, unique ids with a readable prefix (evt_…, dlv_…, out_…)."""
from __future__ import annotations

import base64
import os
import threading
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


_RANDOM_BITS = 80
_last = 0  # the previous ULID of this process, as an integer
_lock = threading.Lock()


def new_id(prefix: str) -> str:
    """A ULID (48-bit milliseconds + 80 random bits) with `prefix_` in front.

    Monotonic within the process: an id made in the same millisecond as the previous one (or
    after the clock stepped back) is the previous one plus 1, so ids sort in the order they were
    made; history rows that share a timestamp keep their arrival order.
    """
    global _last
    fresh = int(time.time() * 1000) << _RANDOM_BITS | int.from_bytes(os.urandom(10), "big")
    with _lock:
        if fresh >> _RANDOM_BITS <= _last >> _RANDOM_BITS:
            fresh = _last + 1
        _last = fresh
    return f"{prefix}_{_base32(fresh, 26)}"

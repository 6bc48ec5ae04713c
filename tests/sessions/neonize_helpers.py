"""Drive a real neonize client's registered handlers exactly the way the Go side does."""
from __future__ import annotations

import ctypes
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import gevent
from gevent.threadpool import ThreadPool
from neonize.events import EVENT_TO_INT

from hub.sessions.live import LiveSession

_GO_THREAD = ThreadPool(1)  # Go calls back on its own OS thread, never on the gevent hub's


def go_delivers(client, event) -> None:
    """Serialize `event` into a C buffer and call the handler table from a native thread, as Go does.

    The call returns when the handler returned (for messages: once the hub stored them), while this
    greenlet waits cooperatively so the hub can run.
    """
    raw = event.SerializeToString()
    buffer = ctypes.create_string_buffer(raw, len(raw))
    _GO_THREAD.spawn(client.event.execute, client.uuid, ctypes.addressof(buffer), len(raw),
                     EVENT_TO_INT[type(event)]).get()


def go_shows_qr(client, code: bytes) -> None:
    """Go's QR callback: a C string address."""
    buffer = ctypes.create_string_buffer(code)
    client._NewClient__onQr(0, ctypes.addressof(buffer))


def live_neonize_engine(hub, session_id: str):
    """A neonize session registered as live in the manager, its client built but never dialled."""
    hub.sessions.create(session_id, engine="neonize")
    engine = hub.sessions._new_engine(session_id, "neonize")
    hub.sessions._live[session_id] = LiveSession(engine)  # registered without starting it
    return engine, engine.prepare().client


def wait_until(predicate, timeout: float = 10.0):
    """Run the gevent hub (deliveries happen there) until `predicate()` is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        gevent.sleep(0.01)
    raise TimeoutError("condition not met in time")


def add_linked_device(store_file: Path, phone: str = "51987654321") -> None:
    """Insert a (fake) paired device into a whatsmeow store, as a QR scan would have."""
    blob = bytes(range(32))
    with closing(sqlite3.connect(store_file)) as db:
        db.execute("INSERT INTO whatsmeow_device (jid, registration_id, noise_key, identity_key, signed_pre_key,"
                   " signed_pre_key_id, signed_pre_key_sig, adv_key, adv_details, adv_account_sig,"
                   " adv_account_sig_key, adv_device_sig, platform, push_name)"
                   " VALUES (?, 1, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, 'Chrome', 'Test')",
                   (f"{phone}:7@s.whatsapp.net", blob, blob, blob, blob * 2, blob, b"x", blob * 2, blob,
                    blob * 2))
        db.commit()

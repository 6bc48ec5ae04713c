"""One real neonize client (goneonize's Go library, whatsmeow inside) dialling from a database store.

`python -m tests.sessions.whatsmeow_pg_child <database url> <session id>`: prepares the session's
DatabaseStore as the hub does (schema, whatsmeow's upgrade, which device to dial), dials once
(offline here: the dial ends with a DNS error) and prints one JSON line: the dial's error and the
device whatsmeow loaded (goneonize `GetMe` reads the client's store, which a failed dial leaves
registered). Its own process: the Go library keeps global state, and a bad device kills it.
"""
from __future__ import annotations

import json
import logging
import sys
import threading

logging.basicConfig(level=logging.WARNING)  # before neonize: it configures logging on import

from neonize.client import NewClient  # noqa: E402

from hub.sessions.device_store import DatabaseStore, upgrade_whatsmeow  # noqa: E402
from hub.store import Store  # noqa: E402

DIAL_TIMEOUT = 30.0  # offline the dial fails in about a second; never hang the test


def dial(client) -> str:
    """connect() in a thread, bounded: its error (or why it did not end)."""
    outcome = {}

    def run():
        try:
            client.connect()
            outcome["error"] = ""
        except Exception as exc:  # the DNS failure is expected here
            outcome["error"] = str(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(DIAL_TIMEOUT)
    return outcome.get("error", f"still dialling after {DIAL_TIMEOUT} s")


def main(url: str, session_id: str) -> None:
    device_store = DatabaseStore(session_id, Store(url))
    device_store._create_schema()
    upgrade_whatsmeow(device_store.name)
    client = NewClient(device_store.name, uuid=session_id)
    device_store.address(client)
    error = dial(client)
    me = client.get_me()
    device = f"{me.JID.User}:{me.JID.Device}@{me.JID.Server}" if me.JID.User else None
    print(json.dumps({"error": error, "newDevice": client.new_device, "device": device, "pushName": me.PushName}),
          flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

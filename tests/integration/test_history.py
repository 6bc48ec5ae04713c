"""WhatsApp's history sync under the real hub (gunicorn, gevent) on the simulated WhatsApp.

The simulated phone sends whatsmeow HistorySync events (goneonize HistorySyncEv, a
waHistorySync.HistorySync per chunk, INITIAL_BOOTSTRAP, progress up to 100) when a session links.
"""
from __future__ import annotations

import statistics
import time

from tests.integration.hubproc import HubProcess

CHATS, MESSAGES = 20, 2000


def create(hub: HubProcess, session_id: str, sync_history: bool) -> None:
    assert hub.post("/api/sessions", json={"sessionId": session_id}).status_code == 201
    answer = hub.request("PATCH", f"/api/sessions/{session_id}", json={"settings": {"syncHistory": sync_history}})
    assert answer.status_code == 200, answer.text
    assert hub.post(f"/api/sessions/{session_id}/connect").status_code == 200


def all_events(hub: HubProcess, session_id: str, kind: str) -> list[dict]:
    """Every stored event of a kind for the session, oldest first (paged with afterSeq)."""
    found, after = [], 0
    while True:
        page = hub.get("/api/events", params={"sessionId": session_id, "type": kind, "afterSeq": after,
                                              "limit": 500}).json()["events"]
        if not page:
            return found
        found.extend(page)
        after = page[-1]["seq"]


def stored_message_ids(hub: HubProcess, session_id: str) -> list[str]:
    """The WhatsApp ids of every message in the session's history (GET /api/messages, paged)."""
    found, offset = [], 0
    while page := hub.get(f"/api/messages/{session_id}", params={"limit": 500, "offset": offset}).json()["messages"]:
        found.extend(message["messageId"] for message in page)
        offset += len(page)
    return found


def history_of(hub: HubProcess, session_id: str) -> dict | None:
    return hub.get(f"/api/sessions/{session_id}").json()["session"]["history"]


def live_latency(hub: HubProcess, session_id: str, index: int) -> float:
    """Seconds from a customer's message to its event being stored (the phone side answers then)."""
    started = time.monotonic()
    answer = hub.post(f"/api/sandbox/{session_id}/inbound", json={"from": "51977700007", "text": f"live {index}"})
    assert answer.status_code == 200, answer.text
    return time.monotonic() - started


def test_a_2000_message_history_is_stored_once_in_order_while_live_messages_keep_their_latency(tmp_path):
    with HubProcess(tmp_path) as hub:
        create(hub, "crm", sync_history=True)
        scanned = hub.post("/api/sandbox/crm/scan", json={"history": {"chats": CHATS, "messages": MESSAGES}})
        assert scanned.status_code == 200, scanned.text
        during = []
        while not (history_of(hub, "crm") or {}).get("done"):
            during.append(live_latency(hub, "crm", len(during)))
            assert len(during) < 2000, "the history sync never finished"
        quiet = [live_latency(hub, "crm", 1000 + i) for i in range(max(10, len(during)))]

        assert history_of(hub, "crm") == {"messages": MESSAGES, "chats": CHATS, "done": True}
        events = all_events(hub, "crm", "message-history")
        assert len(events) == MESSAGES
        assert len({e["data"]["messageId"] for e in events}) == MESSAGES
        by_chat: dict[str, list[str]] = {}
        for event in events:
            by_chat.setdefault(event["data"]["chatId"], []).append(event["data"]["timestamp"])
        assert len(by_chat) == CHATS
        assert all(stamps == sorted(stamps) for stamps in by_chat.values())
        assert {e["data"]["fromMe"] for e in events} == {True, False}

        live = len(during) + len(quiet)
        assert len(all_events(hub, "crm", "message-received")) == live
        stored = stored_message_ids(hub, "crm")
        assert len(stored) == len(set(stored)) == MESSAGES + live

        # measured: the sync must not starve live messages (same hub, same test, quiet afterwards)
        during_median, quiet_median = statistics.median(during), statistics.median(quiet)
        print(f"live inbound latency: during the sync median {during_median * 1000:.0f} ms, "
              f"max {max(during) * 1000:.0f} ms over {len(during)}; quiet median {quiet_median * 1000:.0f} ms, "
              f"max {max(quiet) * 1000:.0f} ms")
        assert len(during) >= 3, "the sync finished before any live message could be measured during it"
        assert during_median <= max(4 * quiet_median, quiet_median + 0.25)


def test_a_history_sent_again_is_not_stored_twice_and_sync_history_applies_to_the_next_link(tmp_path):
    with HubProcess(tmp_path) as hub:
        create(hub, "shop", sync_history=False)
        assert hub.post("/api/sandbox/shop/scan", json={"history": {"chats": 2, "messages": 10}}).status_code == 200
        assert history_of(hub, "shop") is None
        assert hub.request("PATCH", "/api/sessions/shop", json={"settings": {"syncHistory": True}}).status_code == 200
        items = [{"chat": "51966600006", "text": f"old {i}", "messageId": f"3EB0HIST{i:014d}"} for i in range(5)]
        assert hub.post("/api/sandbox/shop/history", json={"messages": items}).status_code == 200
        time.sleep(1)
        assert all_events(hub, "shop", "message-history") == []  # the setting changed after this link

        assert hub.post("/api/sessions/shop/logout").status_code == 200
        assert hub.post("/api/sessions/shop/connect").status_code == 200
        assert hub.post("/api/sandbox/shop/scan", json={"history": {"chats": 1, "messages": 3}}).status_code == 200
        hub.wait_for(lambda: (history_of(hub, "shop") or {}).get("done"))
        for _ in range(2):  # the phone sends the same messages twice: stored once
            answer = hub.post("/api/sandbox/shop/history", json={"messages": items})
            assert answer.status_code == 200 and answer.json()["chunks"] == 1
        hub.wait_for(lambda: history_of(hub, "shop")["messages"] == 3 + len(items))
        time.sleep(1)
        events = all_events(hub, "shop", "message-history")
        assert len(events) == 3 + len(items)
        assert [e["data"]["text"] for e in events[3:]] == [f"old {i}" for i in range(5)]
        assert history_of(hub, "shop")["messages"] == 3 + len(items)

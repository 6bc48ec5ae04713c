"""History sync messages (waHistorySync.HistorySync, as the simulated phone builds them in
hub.sandbox.history) parsed like whatsmeow's Client.ParseWebMessage and mapped like live messages."""
from __future__ import annotations

from hub.sandbox.history import HistoryMessage, chunks, generated
from hub.sessions.history import chronological, history_draft

ME = "51911100001@s.whatsapp.net"
CUSTOMER = "51966600006@s.whatsapp.net"
GROUP = "120363000000000001@g.us"


def parsed(messages: list[HistoryMessage]) -> list[dict]:
    [event] = chunks(messages)
    sync = type(event.Data).FromString(event.Data.SerializeToString())  # as it arrives from Go
    return [history_draft(chat, web, None, ME) for chat, web in chronological(sync)]


def test_senders_as_parse_web_message_gives_them():
    drafts = parsed([HistoryMessage(chat=CUSTOMER, text="hola", timestamp=1764500100, push_name="Ana"),
                     HistoryMessage(chat=CUSTOMER, text="buenas", timestamp=1764500200, from_me=True),
                     HistoryMessage(chat=GROUP, text="en grupo", timestamp=1764500150, sender=CUSTOMER)])
    assert [(d["chatId"], d["from"], d["fromMe"], d["isGroup"], d["text"]) for d in drafts] == [
        (CUSTOMER, CUSTOMER, False, False, "hola"), (CUSTOMER, ME, True, False, "buenas"),
        (GROUP, CUSTOMER, False, True, "en grupo")]
    assert drafts[0]["pushName"] == "Ana" and drafts[0]["timestamp"] == "2025-11-30T10:55:00.000Z"


def test_the_phone_sends_newest_first_and_the_hub_works_oldest_first():
    messages = generated(chats=2, messages=6, now=10**9)
    [event] = chunks(messages)
    first = event.Data.conversations[0].messages
    assert [m.message.messageTimestamp for m in first] == sorted((m.message.messageTimestamp for m in first),
                                                                 reverse=True)
    drafts = parsed(messages)
    for chat in {d["chatId"] for d in drafts}:
        stamps = [d["timestamp"] for d in drafts if d["chatId"] == chat]
        assert stamps == sorted(stamps) and len(stamps) == 3


def test_chunks_keep_conversations_whole_and_progress_reaches_100():
    events = chunks(generated(chats=10, messages=1000, now=10**9), per_chunk=300)
    assert [e.Data.chunkOrder for e in events] == [1, 2, 3, 4]
    assert [e.Data.progress for e in events] == [25, 50, 75, 100]
    chats = [c.ID for e in events for c in e.Data.conversations]
    assert len(chats) == len(set(chats)) == 10
    assert sum(len(c.messages) for e in events for c in e.Data.conversations) == 1000

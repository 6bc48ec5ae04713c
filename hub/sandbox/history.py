"""The simulated WhatsApp's history sync: what the phone sends a device that links (or on demand).

As whatsmeow delivers it: `events.HistorySync` (goneonize HistorySyncEv, neonize's event number
13) carrying a `waHistorySync.HistorySync` of type INITIAL_BOOTSTRAP, in chunks (`chunkOrder`
1, 2, …) whose `progress` reaches 100 with the last one. Each conversation lists its messages
newest first (`msgOrderID` counting back), as the phone does; a conversation is never split
between chunks. The chunks are queued for the device like messages, so they arrive after
`Connected` and again after a reconnect until acknowledged.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from neonize.proto import Neonize_pb2 as N
from neonize.proto.waHistorySync import WAWebProtobufsHistorySync_pb2 as H
from neonize.proto.waWeb import WAWebProtobufsWeb_pb2 as W

from hub.sessions import builders

HISTORY_SYNC_CODE = 13  # neonize's number for HistorySyncEv
CHUNK_MESSAGES = 500  # about what one of WhatsApp's chunks holds
CUSTOMER_BASE = 51980000000  # simulated customers of generated history: 5198000000x


@dataclass
class HistoryMessage:
    """One message of a conversation's history."""

    chat: str  # the chat's JID (the customer, or a group)
    text: str
    timestamp: int  # Unix seconds
    from_me: bool = False
    sender: str | None = None  # a group message's participant
    push_name: str = ""
    message_id: str = field(default_factory=builders.new_message_id)


def generated(chats: int, messages: int, now: float | None = None) -> list[HistoryMessage]:
    """`messages` messages spread over `chats` customer chats, alternating customer and phone, one a minute."""
    now = int(now or time.time())
    found = []
    for index in range(messages):
        chat = f"{CUSTOMER_BASE + index % chats}@s.whatsapp.net"
        from_me = (index // chats) % 2 == 1
        found.append(HistoryMessage(chat=chat, text=f"history message {index + 1}", from_me=from_me,
                                    timestamp=now - 60 * (messages - index), push_name="" if from_me else "Cliente"))
    return found


def chunks(messages: list[HistoryMessage], per_chunk: int = CHUNK_MESSAGES) -> list[N.HistorySync]:
    """The HistorySync events that carry `messages`: whole conversations per chunk, progress up to 100."""
    conversations: dict[str, list[HistoryMessage]] = {}
    for message in messages:
        conversations.setdefault(message.chat, []).append(message)
    groups: list[list[H.Conversation]] = [[]]
    size = 0
    for chat, items in conversations.items():
        if groups[-1] and size + len(items) > per_chunk:
            groups.append([])
            size = 0
        groups[-1].append(conversation(chat, items))
        size += len(items)
    return [N.HistorySync(Data=H.HistorySync(syncType=H.HistorySync.INITIAL_BOOTSTRAP, conversations=group,
                                             chunkOrder=order + 1, progress=100 * (order + 1) // len(groups)))
            for order, group in enumerate(groups)]


def conversation(chat: str, items: list[HistoryMessage]) -> H.Conversation:
    """waHistorySync.Conversation: messages newest first, as the phone sends them."""
    ordered = sorted(items, key=lambda item: item.timestamp, reverse=True)
    return H.Conversation(ID=chat, conversationTimestamp=ordered[0].timestamp if ordered else 0,
                          messages=[H.HistorySyncMsg(message=web_message(item), msgOrderID=len(ordered) - position)
                                    for position, item in enumerate(ordered)])


def web_message(item: HistoryMessage) -> W.WebMessageInfo:
    """waWeb.WebMessageInfo of one history message (the key, the content, time and push name)."""
    participant = item.sender if item.chat.endswith("@g.us") and not item.from_me else None
    return W.WebMessageInfo(key=builders.message_key(item.chat, item.message_id, from_me=item.from_me,
                                                     participant=participant),
                            message=builders.text_content(item.text), messageTimestamp=item.timestamp,
                            pushName=item.push_name, participant=participant or "")


def send(network, device_jid: str, events: list[N.HistorySync]) -> None:
    """Queue the chunks for the device, in order (delivered after Connected, redelivered until acknowledged)."""
    for event in events:
        network.enqueue(device_jid, HISTORY_SYNC_CODE, f"history-{event.Data.chunkOrder}", event.SerializeToString())

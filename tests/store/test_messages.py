"""Receipts move sent messages forward (sent -> delivered -> read), never back, and touch nothing else."""
import pytest
from sqlalchemy import select

from hub.store import Message, Store
from hub.store.ids import new_id


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.migrate()
    yield store
    store.dispose()


def add(db, session_id, message_id, direction="out", status="sent"):
    Message(id=new_id("msg"), session_id=session_id, direction=direction, message_id=message_id,
            chat_id="51987654321@s.whatsapp.net", type="text", status=status).insert_into(db)


def statuses(store) -> dict:
    with store.session() as db:
        return {(m.session_id, m.direction, m.message_id): m.status for m in db.scalars(select(Message))}


def test_receipts_move_forward_never_back_and_only_for_this_sessions_sent_messages(store):
    with store.session() as db:
        for message_id in ("A", "B", "C"):
            add(db, "shop", message_id)
        add(db, "shop", "A", direction="in", status="received")  # an inbound message with the same id
        add(db, "other", "B")  # another number's message with the same id
    with store.session() as db:
        Message.apply_receipts(db, "shop", ["A"], "read")
        Message.apply_receipts(db, "shop", ["A", "B", "unknown"], "delivered")  # late for A
        Message.apply_receipts(db, "shop", [], "read")
    assert statuses(store) == {("shop", "out", "A"): "read", ("shop", "out", "B"): "delivered",
                               ("shop", "out", "C"): "sent", ("shop", "in", "A"): "received",
                               ("other", "out", "B"): "sent"}


def test_nuls_are_stripped_and_long_values_cut_to_their_column_on_sqlite_too(store):
    """The same rows on every database: SQLite would keep what PostgreSQL refuses."""
    with store.session() as db:
        Message.from_event("shop", {"messageId": "M\x001", "chatId": "5" * 300, "from": "51987654321@s.whatsapp.net",
                                    "type": "text", "text": "ho\x00la", "media": {"originalName": "a\x00.pdf"}}
                           ).insert_into(db)
    with store.session() as db:
        message = db.scalar(select(Message))
        found = db.scalar(select(Message).where(Message.message_id == "M\x001"))  # looked up as it was given
    assert (message.message_id, message.chat_id, message.text) == ("M1", "5" * 128, "hola")
    assert message.media == {"originalName": "a.pdf"} and found is not None

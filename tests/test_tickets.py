"""WebSocket tickets: genuine, unexpired and unused, or refused."""
from __future__ import annotations

from hub.tickets import TicketBook


def test_a_ticket_works_once():
    book = TicketBook(["key"])
    ticket, expires = book.issue(now=1000)
    assert expires == 1030
    assert book.redeem(ticket, now=1001)
    assert not book.redeem(ticket, now=1002)


def test_expired_forged_or_foreign_tickets_are_refused():
    book = TicketBook(["key"])
    ticket, _ = book.issue(now=1000)
    assert not book.redeem(ticket, now=1031)
    expires, nonce, signature = ticket.split(".")
    assert not book.redeem(f"{int(expires) + 3600}.{nonce}.{signature}", now=1001)
    assert not book.redeem(f"{expires}.{nonce}x.{signature}", now=1001)
    assert not book.redeem("", now=1001) and not book.redeem("1.2", now=1001)
    other, _ = TicketBook(["another key"]).issue(now=1000)
    assert not book.redeem(other, now=1001)


def test_every_worker_with_the_same_keys_accepts_a_ticket():
    ticket, _ = TicketBook(["a", "b"]).issue(now=1000)
    assert TicketBook(["b", "a"]).redeem(ticket, now=1001)


def test_a_ticket_carries_its_holder_under_the_signature():
    book = TicketBook(["k"])
    ticket, _ = book.issue(now=1000, holder="key_01ABC")
    assert book.redeem(ticket, now=1001) and book.holder_of(ticket) == "key_01ABC"
    admin, _ = book.issue(now=1000)
    assert book.holder_of(admin) == ""
    expires, nonce, signature = ticket.split(".")
    forged = f"{expires}.{nonce.replace('key_01ABC', 'key_02XYZ')}.{signature}"
    assert not book.redeem(forged, now=1001)

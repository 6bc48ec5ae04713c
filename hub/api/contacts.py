"""Contacts: which numbers are on WhatsApp, and a contact's profile (cached)."""
from __future__ import annotations

from typing import Any

from pydantic import Field

from hub.api.common import Model, SessionPath, blueprint, hub, ok
from hub.api.responses import answers, ok_model
from hub.contacts import service
from hub.rules import PHONE_OR_LID_PATTERN, SESSION_ID_PATTERN

bp = blueprint("contacts", "Who is on WhatsApp, and contact profiles")
# 404 unknown session (or contact), 409 the session is not connected, 503 WhatsApp did not answer.
CheckAnswer = ok_model("ContactCheck", results=list[dict[str, Any]])
ContactAnswer = ok_model("ContactAnswer", contact=dict[str, Any])


class CheckBody(Model):
    phones: list[str | int] = Field(max_length=1000, description=f"At most {service.MAX_CHECK} numbers "
                                    "(country code; +, spaces and dashes allowed) or phone JIDs")


class ContactPath(Model):
    session_id: str = Field(pattern=SESSION_ID_PATTERN, description="Session id")
    phone_or_jid: str = Field(max_length=128, description="A phone number, a phone JID or a LID (…@lid)",
                              json_schema_extra={"pattern": PHONE_OR_LID_PATTERN})


@bp.post("/sessions/<session_id>/contacts/check", responses=answers(CheckAnswer, 404, 409, 503))
def check_contacts(path: SessionPath, body: CheckBody):
    """Which numbers are on WhatsApp: {input, exists, jid, lid} per number ({input, error} for a bad one)."""
    return ok(results=service.check(hub(), path.session_id, body.phones))


@bp.get("/sessions/<session_id>/contacts/<phone_or_jid>", responses=answers(ContactAnswer, 404, 409, 503))
def get_contact(path: ContactPath):
    """A contact's profile: jid, lid, phone, pushName, about, pictureUrl, isBusiness (cached briefly)."""
    return ok(contact=service.lookup(hub(), path.session_id, path.phone_or_jid))

"""The simulated WhatsApp's contacts and calls: the number registry, and calls from the phone side."""
from __future__ import annotations

from typing import Any

from pydantic import Field

from hub.api.common import PHONE_SCHEMA, Model, SessionPath, blueprint, hub, ok
from hub.api.responses import answers, ok_model
from hub.api.sandbox import PHONE_ERRORS, phone_of
from hub.contacts.numbers import phone_digits
from hub.errors import Forbidden

bp = blueprint("sandbox_contacts", "Simulated WhatsApp: its numbers' profiles, and calls to sandbox sessions")
ContactAnswer = ok_model("SandboxContact", contact=dict[str, Any], served=dict[str, int])
CallAnswer = ok_model("SandboxCall", call=dict[str, Any])


class RegistryPhonePath(Model):
    phone: str = Field(max_length=32, description="The number (country code; +, spaces, dashes allowed)",
                       json_schema_extra=PHONE_SCHEMA)


class RegistryContactBody(Model):
    exists: bool | None = Field(None, description="Whether the number is on WhatsApp (default true)")
    push_name: str | None = Field(None, alias="pushName", max_length=128)
    about: str | None = Field(None, max_length=500)
    lid: str | None = Field(None, pattern=r"^\d{5,20}(@lid)?$", description="Its LID (digits, or …@lid)")
    is_business: bool | None = Field(None, alias="isBusiness")

    def fields(self) -> dict:
        """The columns to change (only the keys given; null clears a text, and leaves a flag as it is)."""
        values = {key: value for key, value in self.model_dump(exclude_unset=True).items()
                  if value is not None or key not in ("exists", "is_business")}
        if values.get("lid") and not values["lid"].endswith("@lid"):
            values["lid"] += "@lid"
        return values


class CallBody(Model):
    sender: str = Field(alias="from", max_length=64, description="The caller's number", json_schema_extra=PHONE_SCHEMA)
    video: bool = Field(False, description="A video call")


def registry():
    """The simulated numbers' registry (403 when the sandbox is disabled)."""
    context = hub()
    if not context.config.sandbox:
        raise Forbidden("The sandbox is disabled on this hub; set HUB_SANDBOX=true to enable it.",
                        code="sandbox_disabled")
    return context.sessions.simulator().library.registry


@bp.put("/sandbox/contacts/<phone>", responses=answers(ContactAnswer, 403))
def put_contact(path: RegistryPhonePath, body: RegistryContactBody):
    """Create or change a simulated number (every number exists until it is set `exists: false`)."""
    phone = phone_digits(path.phone)
    contact = registry().put(phone, body.fields())
    return ok(contact=contact, served=registry().served_for(phone))


@bp.get("/sandbox/contacts/<phone>", responses=answers(ContactAnswer, 403))
def get_contact(path: RegistryPhonePath):
    """A simulated number's profile, and how often WhatsApp answered questions about it (per function)."""
    phone = phone_digits(path.phone)
    return ok(contact=registry().profile(phone), served=registry().served_for(phone))


@bp.post("/sandbox/<session_id>/call", responses=answers(CallAnswer, *PHONE_ERRORS))
def call(path: SessionPath, body: CallBody):
    """A contact calls the session (whatsmeow CallOffer); the answer's `call` shows its state."""
    phone = phone_of(path.session_id)
    connection = phone.online(path.session_id)
    return ok(call=phone.library.offer_call(connection, phone_digits(body.sender), body.video))


@bp.get("/sandbox/<session_id>/calls", responses=answers(ok_model("SandboxCalls", calls=list[dict[str, Any]]),
                                                          *PHONE_ERRORS))
def calls(path: SessionPath):
    """The calls offered to the session and what became of them (offered, rejected), oldest first."""
    phone_of(path.session_id)
    log = hub().sessions.simulator().library.call_log
    return ok(calls=[call for call in log.values() if call["session"] == path.session_id])

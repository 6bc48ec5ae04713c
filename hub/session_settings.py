"""Session settings: what a session does with calls, history and its send pace (README "Session settings").

One rule set: the PATCH body validates with `SettingsPatch`, the row stores only what was set
(`Session.settings`), and every view shows `view(stored)` — the defaults filled in.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from hub.rules import integral

REJECT_CALL_MESSAGE_MAX = 1000
# The rate keys end up in SQL and in timers: bounded so no value overflows either.
RATE_MAX = 1_000_000

DEFAULTS: dict = {
    "rejectCalls": False,  # reject incoming calls (a call-received event is emitted either way)
    "rejectCallMessage": None,  # sent to the caller after a rejected call, through the send queue
    "syncHistory": False,  # store and emit the history WhatsApp sends when a device links
    "sendRate": None,  # messages per minute (None: no limit besides HUB_SEND_INTERVAL)
    "dailyLimit": None,  # messages per day
    "newContactRate": None,  # first messages to numbers never talked to, per hour
}
# A per-minute/day/hour count: a whole JSON number (5 or 5.0) within the bounds.
Rate = Annotated[int, Field(ge=1, le=RATE_MAX), BeforeValidator(integral)]


class SettingsPatch(BaseModel):
    """The settings a PATCH changes: absent keys stay as they are, `null` restores a key's default."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    reject_calls: bool | None = Field(None, alias="rejectCalls", description="Reject incoming calls")
    reject_call_message: str | None = Field(None, alias="rejectCallMessage", max_length=REJECT_CALL_MESSAGE_MAX,
                                            description="Text sent to a caller whose call was rejected")
    sync_history: bool | None = Field(None, alias="syncHistory",
                                      description="Store the history sync of the next link")
    send_rate: Rate | None = Field(None, alias="sendRate", description="Messages per minute")
    daily_limit: Rate | None = Field(None, alias="dailyLimit", description="Messages per day")
    new_contact_rate: Rate | None = Field(None, alias="newContactRate",
                                          description="First messages to new numbers, per hour")

    def changes(self) -> dict:
        """The keys the caller sent, by their wire names (None = back to the default)."""
        return self.model_dump(by_alias=True, exclude_unset=True)


def merged(stored: dict, changes: dict) -> dict:
    """The stored settings after a PATCH: keys set to None (the default) are dropped."""
    result = {**stored, **changes}
    return {key: value for key, value in result.items() if value is not None and key in DEFAULTS}


def view(stored: dict | None) -> dict:
    """Every setting, the defaults filled in (what session views show)."""
    return {**DEFAULTS, **(stored or {})}

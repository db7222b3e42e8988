"""The daily series of a sequence (CAPABILITIES §2): counters per local day."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class DayOut(BaseModel):
    """What happened on one local day: each event counted at its own time (feedback when
    the contact acted, the rest when Dripline recorded it)."""

    date: date
    enrolled: int
    sent: int = Field(description="Message requests")
    delivered: int = Field(description="Reported delivered, or implied by an open or click")
    opened: int = Field(description="Human opens (machine opens are left out)")
    clicked: int = Field(description="Messages clicked by a human (first click of each)")
    replied: int = Field(description="Replies attributed to a message")
    unsubscribed: int = Field(description="Unsubscribes attributed to a message")
    converted: int
    completed: int
    exited: int

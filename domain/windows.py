"""Smart sending: a step falls due only inside the sequence's send window, read in the
contact's time zone (fallback: the window's own zone, then UTC).

Due times are instants in UTC; the zone is used only to ask "which local hour and weekday is
this instant?" and to find the next local window start (CONVENTIONS 4). On a DST start day a
window hour that does not exist locally begins at the end of the gap; on a DST end day the
first of the two repeated hours is used, so no step is ever doubled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain import validation as v
from domain.errors import InvalidInputError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@dataclass(frozen=True)
class SendWindow:
    hours: tuple[int, ...]  # local hours whose start to end is allowed, e.g. 9..17
    weekdays: tuple[str, ...]  # allowed local weekdays, "mon".."sun"
    timezone: str | None = None  # used when the contact has no (valid) time zone

    @classmethod
    def from_dict(cls, data: object, where: str = "send_window") -> SendWindow | None:
        if data is None:
            return None
        d = v.require_mapping(data, where)
        v.reject_unknown(d, {"hours", "weekdays", "timezone"}, where)
        hours = d.get("hours", list(range(24)))
        days = d.get("weekdays", list(WEEKDAYS))
        if not isinstance(hours, list) or not hours:
            raise InvalidInputError(f"{where}.hours", "must be a non-empty list of hours 0-23")
        if not isinstance(days, list) or not days:
            raise InvalidInputError(f"{where}.weekdays", f"must be a non-empty list of {WEEKDAYS}")
        checked_hours = sorted({v.integer(h, f"{where}.hours", minimum=0, maximum=23)
                                for h in hours})
        checked_days = [v.choice(day, f"{where}.weekdays", WEEKDAYS) for day in days]
        tz = v.optional_text(d.get("timezone"), f"{where}.timezone", max_len=64)
        if tz is not None and zone(tz) is None:
            raise InvalidInputError(f"{where}.timezone",
                                    f"unknown time zone {tz!r}; use an IANA name like "
                                    "'America/New_York'")
        ordered_days = tuple(day for day in WEEKDAYS if day in checked_days)
        return cls(hours=tuple(checked_hours), weekdays=ordered_days, timezone=tz)

    def to_dict(self) -> dict[str, Any]:
        return {"hours": list(self.hours), "weekdays": list(self.weekdays),
                "timezone": self.timezone}

    def allows(self, moment: datetime, tz: ZoneInfo) -> bool:
        local = moment.astimezone(tz)
        return local.hour in self.hours and WEEKDAYS[local.weekday()] in self.weekdays

    def zone_for(self, contact_timezone: str | None) -> ZoneInfo:
        """The zone the window is read in: the contact's, else the window's, else UTC."""
        return zone(contact_timezone) or zone(self.timezone) or ZoneInfo("UTC")

    def next_allowed(self, due: datetime, contact_timezone: str | None) -> datetime:
        """The earliest instant at or after ``due`` inside the window."""
        tz = self.zone_for(contact_timezone)
        if self.allows(due, tz):
            return due
        start = due.astimezone(tz).date()
        # Two weeks and a day: a window hour may be missing on one day of the year (inside a
        # DST gap), so the next week's same weekday is not always enough.
        for day in range(15):
            date = start + timedelta(days=day)
            if WEEKDAYS[date.weekday()] not in self.weekdays:
                continue
            for hour in self.hours:
                # fold=0: the first of a repeated hour; a hour inside a DST gap maps to the
                # instant the gap ends.
                candidate = datetime.combine(date, time(hour), tz).astimezone(UTC)
                if candidate > due and self.allows(candidate, tz):
                    return candidate
        raise AssertionError("a non-empty weekly window always has a start within 15 days")

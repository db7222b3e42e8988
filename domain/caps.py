"""Frequency caps and throttles of a tenant (CAPABILITIES §4): the settings as value objects,
validated field by field, and the pure decisions taken on them. Nothing here loads or saves.

A cap rule counts a contact's first-attempt message requests (on one channel, or all) in a
window: ``rolling_24h``, ``{"rolling_hours": n}`` or ``calendar_day`` (since the first instant
of the contact's local date). A throttle allows at most ``per_minute`` requests per channel
per UTC minute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain import validation as v
from domain.errors import InvalidInputError
from domain.windows import zone

MAX_RULES = 10
MAX_ROLLING_HOURS = 720
# What a ledger keeps: every send any allowed window can still see (a calendar day is at most
# 25 hours long; a day more is a margin).
LEDGER_HORIZON = timedelta(hours=MAX_ROLLING_HOURS + 24)
ON_CAP = ("defer", "skip")
_FIELDS = {"timezone", "frequency_cap", "throttle"}


@dataclass(frozen=True)
class CapRule:
    channel: str | None  # None: every channel
    max_messages: int
    window: str | int  # "rolling_24h", "calendar_day", or a number of hours

    def to_dict(self) -> dict[str, Any]:
        window = {"rolling_hours": self.window} if isinstance(self.window, int) else self.window
        return {"channel": self.channel, "max_messages": self.max_messages, "window": window}


@dataclass(frozen=True)
class Block:
    """A rule that refuses a send now: which, with how many sends against what limit, and
    the earliest instant it would allow one again."""

    rule_index: int
    count: int
    limit: int
    frees_at: datetime

    def detail(self, step_order: int) -> dict[str, Any]:
        return {"rule_index": self.rule_index, "count": self.count, "limit": self.limit,
                "step_order": step_order}


@dataclass(frozen=True)
class CapPolicy:
    rules: tuple[CapRule, ...] = ()
    on_cap: str = "defer"
    max_defer_hours: int = 72

    def to_dict(self) -> dict[str, Any]:
        return {"rules": [r.to_dict() for r in self.rules], "on_cap": self.on_cap,
                "max_defer_hours": self.max_defer_hours}

    @classmethod
    def from_stored(cls, data: Mapping[str, Any] | None) -> CapPolicy:
        if not data:
            return cls()
        rules = tuple(CapRule(r["channel"], r["max_messages"], _stored_window(r["window"]))
                      for r in data.get("rules", ()))
        return cls(rules, data.get("on_cap", "defer"), data.get("max_defer_hours", 72))

    def blocks(self, sends: Iterable[tuple[datetime, str]], channel: str, now: datetime,
               tz: ZoneInfo) -> list[Block]:
        """The rules that refuse a send on ``channel`` at ``now``, given the contact's
        counted ``(at, channel)`` sends."""
        counted = sorted(at for at, _ in sends)
        by_channel = sorted(at for at, ch in sends if ch == channel)
        found = []
        for index, rule in enumerate(self.rules):
            if rule.channel is not None and rule.channel != channel:
                continue
            seen = counted if rule.channel is None else by_channel
            start, frees = _window(rule, now, tz)
            inside = [at for at in seen if start < at <= now] if frees is None else \
                [at for at in seen if start <= at <= now]
            if len(inside) < rule.max_messages:
                continue
            # Rolling: the send that must leave the window for one more to fit, plus W.
            until = frees or inside[len(inside) - rule.max_messages] + _span(rule)
            found.append(Block(index, len(inside), rule.max_messages, until))
        return found


def _span(rule: CapRule) -> timedelta:
    return timedelta(hours=24 if rule.window == "rolling_24h" else int(rule.window))


def _window(rule: CapRule, now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime | None]:
    """The window's start, and for a calendar day the instant it ends (the next local
    midnight); a rolling window frees send by send (None)."""
    if rule.window != "calendar_day":
        return now - _span(rule), None
    today = now.astimezone(tz).date()
    return local_midnight(today, tz), local_midnight(today + timedelta(days=1), tz)


def local_midnight(date: Any, tz: ZoneInfo) -> datetime:
    """The first instant of a local date, in UTC. Where midnight falls in a DST gap the
    zone's fold=0 reading is the instant the gap starts, which is that date's first."""
    return datetime.combine(date, time(0), tz).astimezone(UTC)


def _stored_window(window: Any) -> str | int:
    return int(window["rolling_hours"]) if isinstance(window, Mapping) else str(window)


@dataclass(frozen=True)
class Throttle:
    per_minute: dict[str, int]  # channel -> requests per UTC minute

    @classmethod
    def from_stored(cls, data: Mapping[str, Any] | None) -> Throttle:
        return cls({ch: int(t["per_minute"]) for ch, t in (data or {}).items()})

    def to_dict(self) -> dict[str, Any]:
        return {ch: {"per_minute": n} for ch, n in sorted(self.per_minute.items())}


# --- validation of a PUT body -------------------------------------------------------------------


def validated(data: object) -> dict[str, Any]:
    """The settings given, validated (422 names the field), in their stored form."""
    body = v.require_mapping(data, "body")
    v.reject_unknown(body, _FIELDS, "")
    out: dict[str, Any] = {}
    if "timezone" in body:
        tz = v.optional_text(body["timezone"], "timezone", max_len=64)
        if tz is not None and zone(tz) is None:
            raise InvalidInputError("timezone", f"unknown time zone {tz!r}; use an IANA name "
                                                "like 'Europe/Berlin'")
        out["timezone"] = tz
    if "frequency_cap" in body:
        out["frequency_cap"] = _cap(body["frequency_cap"])
    if "throttle" in body:
        out["throttle"] = _throttle(body["throttle"])
    return out


def _cap(data: object) -> dict[str, Any] | None:
    if data is None:
        return None
    d = v.require_mapping(data, "frequency_cap")
    v.reject_unknown(d, {"rules", "on_cap", "max_defer_hours"}, "frequency_cap")
    raw = d.get("rules", [])
    if not isinstance(raw, list) or len(raw) > MAX_RULES:
        raise InvalidInputError("frequency_cap.rules", f"must be a list of at most {MAX_RULES}")
    rules = tuple(_rule(r, f"frequency_cap.rules[{i}]") for i, r in enumerate(raw))
    on_cap = v.choice(d.get("on_cap", "defer"), "frequency_cap.on_cap", ON_CAP)
    hours = v.integer(d.get("max_defer_hours", 72), "frequency_cap.max_defer_hours",
                      minimum=1, maximum=MAX_ROLLING_HOURS)
    return CapPolicy(rules, on_cap, hours).to_dict()


def _rule(data: object, where: str) -> CapRule:
    d = v.require_mapping(data, where)
    v.reject_unknown(d, {"channel", "max_messages", "window"}, where)
    channel = d.get("channel")
    if channel is not None:
        channel = v.identifier(channel, f"{where}.channel")
    if "max_messages" not in d:
        raise InvalidInputError(f"{where}.max_messages", "is required")
    limit = v.integer(d["max_messages"], f"{where}.max_messages", minimum=1, maximum=100_000)
    return CapRule(channel, limit, _window_of(d.get("window"), f"{where}.window"))


def _window_of(window: object, where: str) -> str | int:
    if window in ("rolling_24h", "calendar_day"):
        return str(window)
    if isinstance(window, Mapping) and set(window) == {"rolling_hours"}:
        return v.integer(window["rolling_hours"], f"{where}.rolling_hours", minimum=1,
                         maximum=MAX_ROLLING_HOURS)
    raise InvalidInputError(where, "must be 'rolling_24h', 'calendar_day' or "
                                   f"{{\"rolling_hours\": 1-{MAX_ROLLING_HOURS}}}")


def _throttle(data: object) -> dict[str, Any] | None:
    if data is None:
        return None
    d = v.require_mapping(data, "throttle")
    out: dict[str, int] = {}
    for channel, item in d.items():
        v.identifier(channel, f"throttle.{channel}")
        t = v.require_mapping(item, f"throttle.{channel}")
        v.reject_unknown(t, {"per_minute"}, f"throttle.{channel}")
        out[channel] = v.integer(t.get("per_minute"), f"throttle.{channel}.per_minute",
                                 minimum=1, maximum=100_000)
    return Throttle(out).to_dict()

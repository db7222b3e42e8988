"""A revision's goal (CAPABILITIES §3): the CRM event that counts as the journey's success.

``{"event_type", "match", "attribution_window_hours", "exit_on_goal"}``: an event of that
type converts when every ``match`` key, a dot path into its ``data`` (``properties.plan``),
holds exactly that text. Messages' own feedback, deletions and unsubscribes are never goals:
they are not something a contact achieves. The window says how long after an enrollment
ended a goal event still counts for it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from domain import validation as v
from domain.crm import EVENT_TYPES
from domain.errors import InvalidInputError

GOAL_EVENT_TYPES = tuple(t for t in EVENT_TYPES if not t.startswith("message_")
                         and t not in ("contact_deleted", "contact_unsubscribed"))
MAX_MATCH_KEYS = 10
MAX_WINDOW_HOURS = 2160  # 90 days
DEFAULT_WINDOW_HOURS = 168
_FIELDS = {"event_type", "match", "attribution_window_hours", "exit_on_goal"}


def value_at(data: Mapping[str, Any], path: str) -> str | None:
    """The text at a dot path of an event's data (numbers and booleans in their JSON
    spelling), or None when the path leads nowhere or to an object or a list."""
    found: Any = data
    for part in path.split("."):
        if not isinstance(found, Mapping) or part not in found:
            return None
        found = found[part]
    if isinstance(found, str):
        return found
    if isinstance(found, bool | int | float):
        return json.dumps(found)
    return None


@dataclass(frozen=True)
class Goal:
    event_type: str
    match: dict[str, str] = field(default_factory=dict)
    attribution_window_hours: int = DEFAULT_WINDOW_HOURS
    exit_on_goal: bool = True

    @property
    def window(self) -> timedelta:
        return timedelta(hours=self.attribution_window_hours)

    def matches(self, event_type: str, data: Mapping[str, Any]) -> bool:
        return event_type == self.event_type and all(
            value_at(data, path) == expected for path, expected in self.match.items())

    def to_dict(self) -> dict[str, Any]:
        return {"event_type": self.event_type, "match": dict(self.match),
                "attribution_window_hours": self.attribution_window_hours,
                "exit_on_goal": self.exit_on_goal}

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> Goal:
        return cls(event_type=str(stored["event_type"]), match=dict(stored["match"]),
                   attribution_window_hours=int(stored["attribution_window_hours"]),
                   exit_on_goal=bool(stored["exit_on_goal"]))

    @classmethod
    def from_dict(cls, raw: object, where: str = "goal") -> Goal | None:
        """A goal from a request body (None: no goal), each field checked and named."""
        if raw is None:
            return None
        data = v.require_mapping(raw, where)
        v.reject_unknown(data, _FIELDS, where)
        if "event_type" not in data:
            raise InvalidInputError(f"{where}.event_type", "is required")
        kind = v.choice(data["event_type"], f"{where}.event_type", GOAL_EVENT_TYPES)
        match = v.require_mapping(data.get("match"), f"{where}.match")
        if not 1 <= len(match) <= MAX_MATCH_KEYS:
            raise InvalidInputError(f"{where}.match",
                                    f"must have 1 to {MAX_MATCH_KEYS} keys, got {len(match)}")
        checked: dict[str, str] = {}
        for path, expected in match.items():
            v.text(path, f"{where}.match key", max_len=200)
            if any(not part.strip() for part in path.split(".")):
                raise InvalidInputError(f"{where}.match.{path}",
                                        "must be a dot path like 'properties.plan'")
            if not isinstance(expected, str):
                raise InvalidInputError(f"{where}.match.{path}",
                                        "must be a string (compared exactly as text)")
            checked[path] = v.text(expected, f"{where}.match.{path}", max_len=500,
                                   required=False)
        hours = v.integer(data.get("attribution_window_hours", DEFAULT_WINDOW_HOURS),
                          f"{where}.attribution_window_hours", minimum=1,
                          maximum=MAX_WINDOW_HOURS)
        exits = v.boolean(data.get("exit_on_goal", True), f"{where}.exit_on_goal")
        return cls(kind, checked, hours, exits)

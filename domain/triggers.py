"""How contacts enter a sequence (trigger) and whether they may enter it again (policy)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain import validation as v
from domain.errors import InvalidInputError

TRIGGER_TYPES = ("manual", "tag_added", "list_joined", "form_submit", "pipeline_entered")

# For each trigger: the keys that identify the source (compared with the CRM event), and the
# descriptive keys also accepted. At least one identifying key is required for every type but
# manual; ``tag_added`` accepts the tag's id or its name.
_IDENTIFYING: dict[str, tuple[str, ...]] = {
    "manual": (),
    "tag_added": ("tag_id", "tag_name"),
    "list_joined": ("list_id",),
    "form_submit": ("form_id",),
    "pipeline_entered": ("pipeline_id",),
}
_DESCRIPTIVE: dict[str, tuple[str, ...]] = {
    "manual": (),
    "tag_added": (),
    "list_joined": ("list_name",),
    "form_submit": ("form_name",),
    "pipeline_entered": ("pipeline_name",),
}


def validate_trigger(trigger_type: object, trigger_data: object) -> tuple[str, dict[str, str]]:
    kind = v.choice(trigger_type, "trigger_type", TRIGGER_TYPES)
    data = v.require_mapping(trigger_data if trigger_data is not None else {}, "trigger_data")
    ident, desc = _IDENTIFYING[kind], _DESCRIPTIVE[kind]
    v.reject_unknown(data, set(ident) | set(desc), "trigger_data")
    out = {key: v.text(val, f"trigger_data.{key}", max_len=200) for key, val in data.items()}
    if ident and not any(key in out for key in ident):
        raise InvalidInputError(
            f"trigger_data.{ident[0]}",
            f"a {kind} trigger must name its source: give {' or '.join(ident)}",
        )
    return kind, out


def trigger_matches(trigger_data: Mapping[str, str], trigger_type: str,
                    event_data: Mapping[str, Any]) -> bool:
    """Every identifying key the trigger names must equal the event's value (DESIGN 3.1)."""
    return all(
        str(event_data.get(key)) == value
        for key, value in trigger_data.items()
        if key in _IDENTIFYING[trigger_type]
    )


REENROLLMENT_POLICIES = ("never", "after_completion", "after_exit", "always")


@dataclass(frozen=True)
class ReEnrollment:
    """May a contact enter the same sequence again once their enrollment ended?

    ``never`` (default) refuses; ``after_completion`` only after they completed it;
    ``after_exit`` only after they left early; ``always`` after either. ``cooldown_seconds``
    is the least time between the end of the previous enrollment and the new one.
    """

    policy: str = "never"
    cooldown_seconds: int = 0

    @classmethod
    def from_dict(cls, data: object, where: str = "reenrollment") -> ReEnrollment:
        if data is None:
            return cls()
        d = v.require_mapping(data, where)
        v.reject_unknown(d, {"policy", "cooldown_seconds"}, where)
        return cls(
            policy=v.choice(d.get("policy", "never"), f"{where}.policy", REENROLLMENT_POLICIES),
            cooldown_seconds=v.integer(
                d.get("cooldown_seconds", 0), f"{where}.cooldown_seconds",
                minimum=0, maximum=10 * 365 * 86400,
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "cooldown_seconds": self.cooldown_seconds}

    def refusal(self, previous_status: str, ended_at: datetime | None,
                now: datetime) -> str | None:
        """Why a contact whose previous enrollment ended may not re-enter, or None."""
        allowed = {
            "never": (),
            "after_completion": ("completed",),
            "after_exit": ("exited",),
            "always": ("completed", "exited"),
        }[self.policy]
        if previous_status not in allowed:
            return (
                f"the contact's previous enrollment is {previous_status} and this sequence's "
                f"re-enrollment policy is '{self.policy}'"
            )
        if ended_at is not None and now < ended_at + timedelta(seconds=self.cooldown_seconds):
            ready = ended_at + timedelta(seconds=self.cooldown_seconds)
            return f"the re-enrollment cooldown lasts until {ready.isoformat()}"
        return None

"""A sequence step and its parts: message template, conditions, delay.

Value objects are immutable and built only through ``from_dict``, which validates; ``to_dict``
gives the JSON shape stored in events (the storage format), so the two round-trip exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from domain import validation as v
from domain.errors import InvalidInputError
from domain.templates import check_template

DELAY_UNITS = ("minutes", "hours", "days")
_UNIT_SECONDS = {"minutes": 60, "hours": 3600, "days": 86400}
MAX_DELAY_SECONDS = 3 * 365 * 86400  # three years: beyond that a drip step is a mistake
MESSAGE_TYPES = ("text", "template", "media")
MAX_CONTENT = 10_000
ON_CONDITION_FAIL = ("exit", "skip")

# Which operators each condition type accepts (the seed's examples, completed).
CONDITION_OPERATORS: dict[str, tuple[str, ...]] = {
    "tag": ("has", "not_has"),
    "custom_field": ("equals", "not_equals", "contains", "greater_than", "less_than"),
    "pipeline_status": ("equals", "not_equals"),
    "last_activity": ("is_null", "is_not_null", "within_days", "older_than_days"),
}
ACTIVITY_FIELDS = ("last_activity_at", "last_reply_at")


@dataclass(frozen=True)
class MessageTemplate:
    type: str = "text"
    content: str = ""
    template_id: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    media_url: str | None = None
    channel: str = "whatsapp"

    @classmethod
    def from_dict(cls, data: object, where: str = "message_template") -> MessageTemplate:
        d = v.require_mapping(data, where)
        v.reject_unknown(d, set(cls.__dataclass_fields__), where)
        kind = v.choice(d.get("type", "text"), f"{where}.type", MESSAGE_TYPES)
        content = v.text(d.get("content"), f"{where}.content", max_len=MAX_CONTENT, required=False)
        template_id = v.optional_text(d.get("template_id"), f"{where}.template_id", max_len=200)
        media_url = v.optional_text(d.get("media_url"), f"{where}.media_url", max_len=2000)
        if kind == "text" and not content.strip():
            raise InvalidInputError(f"{where}.content", "is required for a text message")
        if kind == "template" and template_id is None:
            raise InvalidInputError(f"{where}.template_id", "is required for a template message")
        if kind == "media" and media_url is None:
            raise InvalidInputError(f"{where}.media_url", "is required for a media message")
        if media_url is not None:
            parts = urlsplit(media_url)
            if parts.scheme != "https" or not parts.netloc:
                raise InvalidInputError(
                    f"{where}.media_url", f"must be an https:// URL; got {media_url!r}"
                )
        variables = v.string_map(d.get("variables"), f"{where}.variables", max_items=50,
                                 max_len=1000)
        _check_templates(content, variables, where)
        return cls(
            type=kind,
            content=content,
            template_id=template_id,
            variables=variables,
            media_url=media_url,
            channel=v.identifier(d.get("channel", "whatsapp"), f"{where}.channel"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "content": self.content,
            "template_id": self.template_id,
            "variables": dict(self.variables),
            "media_url": self.media_url,
            "channel": self.channel,
        }


def _check_templates(content: str, variables: dict[str, str], where: str) -> None:
    names = {key for key in variables if "." not in key}
    for field_name, source in [("content", content),
                               *((f"variables.{k}", val) for k, val in variables.items())]:
        problem = check_template(source, names)
        if problem:
            raise InvalidInputError(f"{where}.{field_name}", problem)


@dataclass(frozen=True)
class Condition:
    type: str
    operator: str
    value: str = ""
    field: str | None = None

    @classmethod
    def from_dict(cls, data: object, where: str) -> Condition:
        d = v.require_mapping(data, where)
        v.reject_unknown(d, {"type", "operator", "value", "field"}, where)
        kind = v.choice(d.get("type"), f"{where}.type", tuple(CONDITION_OPERATORS))
        op = v.choice(d.get("operator"), f"{where}.operator", CONDITION_OPERATORS[kind])
        raw = d.get("value", "")
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise InvalidInputError(f"{where}.value", "must be a string or a number")
        value = v.text(str(raw), f"{where}.value", max_len=500, required=False)
        fld = v.optional_text(d.get("field"), f"{where}.field", max_len=200)
        if kind == "custom_field" and fld is None:
            raise InvalidInputError(f"{where}.field", "names the custom field to compare")
        if kind in ("tag", "custom_field") and not value.strip() and op != "not_equals":
            raise InvalidInputError(f"{where}.value", f"is required for {kind} {op}")
        if op in ("greater_than", "less_than"):
            _number(value, f"{where}.value")
        if kind == "last_activity":
            fld = _activity_field(op, value, fld, where)
        if op in ("within_days", "older_than_days"):
            v.integer(_int_or_none(value), f"{where}.value", minimum=0, maximum=36500)
        return cls(type=kind, operator=op, value=value, field=fld)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "operator": self.operator, "value": self.value,
                "field": self.field}


def _activity_field(op: str, value: str, fld: str | None, where: str) -> str:
    # The seed writes {"operator": "is_null", "value": "last_reply_at"}: for the null checks
    # the value may name the timestamp; for the day windows the value is the day count.
    if op in ("is_null", "is_not_null") and value and fld is None:
        fld = value
    fld = fld or "last_activity_at"
    return v.choice(fld, f"{where}.field", ACTIVITY_FIELDS)


def _int_or_none(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def _number(value: str, where: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise InvalidInputError(
            where, f"must be a number for this operator; got {value!r}") from None


@dataclass(frozen=True)
class Step:
    id: UUID
    order: int
    name: str
    delay_amount: int
    delay_unit: str
    message_template: MessageTemplate
    conditions: tuple[Condition, ...] = ()
    on_condition_fail: str = "exit"
    # The template it was copied from, (id, version): provenance only; later edits of the
    # template never reach the step (``domain.template_library``).
    source_template: tuple[str, int] | None = None

    @property
    def delay(self) -> timedelta:
        return timedelta(seconds=self.delay_amount * _UNIT_SECONDS[self.delay_unit])

    @classmethod
    def from_dict(cls, step_id: UUID, data: object, where: str = "") -> Step:
        """The step ``data`` describes, its errors named under ``where`` (``steps[2]``):
        without it, as fields of a body that is the step (``delay_amount``), the way the
        request schema names them."""
        at = f"{where}." if where else ""
        d = v.require_mapping(data, where or "body")
        allowed = set(cls.__dataclass_fields__) - {"id", "source_template"}
        v.reject_unknown(d, allowed, where)
        if "order" not in d:
            raise InvalidInputError(f"{at}order", "is required (0 for the first step)")
        unit = v.choice(d.get("delay_unit", "minutes"), f"{at}delay_unit", DELAY_UNITS)
        amount = v.integer(
            d.get("delay_amount", 0), f"{at}delay_amount",
            minimum=0, maximum=MAX_DELAY_SECONDS // _UNIT_SECONDS[unit],
        )
        raw_conditions = d.get("conditions") or []
        if not isinstance(raw_conditions, list) or len(raw_conditions) > 20:
            raise InvalidInputError(f"{at}conditions", "must be a list of at most 20")
        return cls(
            id=step_id,
            order=v.integer(d["order"], f"{at}order", minimum=0, maximum=10_000),
            name=v.text(d.get("name"), f"{at}name", max_len=200),
            delay_amount=amount,
            delay_unit=unit,
            message_template=MessageTemplate.from_dict(
                d.get("message_template"), f"{at}message_template"
            ),
            conditions=tuple(
                Condition.from_dict(c, f"{at}conditions[{i}]")
                for i, c in enumerate(raw_conditions)
            ),
            on_condition_fail=v.choice(
                d.get("on_condition_fail", "exit"), f"{at}on_condition_fail",
                ON_CONDITION_FAIL,
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """The step as stored in events and shown by the API (id as a string)."""
        source = {} if self.source_template is None else {"source_template": {
            "id": self.source_template[0], "version": self.source_template[1]}}
        return {
            "id": str(self.id),
            "order": self.order,
            "name": self.name,
            "delay_amount": self.delay_amount,
            "delay_unit": self.delay_unit,
            "message_template": self.message_template.to_dict(),
            "conditions": [c.to_dict() for c in self.conditions],
            "on_condition_fail": self.on_condition_fail,
            **source,
        }

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Step:
        """Rebuild a step from an event without re-validating: stored events must keep loading
        even if the authoring rules become stricter later."""
        return cls(
            id=UUID(data["id"]),
            order=data["order"],
            name=data["name"],
            delay_amount=data["delay_amount"],
            delay_unit=data["delay_unit"],
            message_template=MessageTemplate(**data["message_template"]),
            conditions=tuple(Condition(**c) for c in data.get("conditions", ())),
            on_condition_fail=data.get("on_condition_fail", "exit"),
            source_template=_source(data.get("source_template")),
        )


def _source(stored: Any) -> tuple[str, int] | None:
    if not isinstance(stored, dict):
        return None
    return str(stored["id"]), int(stored["version"])

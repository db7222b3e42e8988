"""The template library (CAPABILITIES §5): step templates and sequence templates.

A template is a body of plain data, validated on save exactly like what it becomes (a step,
a sequence's trigger and steps), so using one can never produce something the API would
refuse. The built-ins ship in code, read-only, with ids ``builtin:<name>``: step templates
from the seed's examples and its four usage patterns as sequence templates. A tenant's own
templates are ``domain.step_template.StepTemplate`` aggregates.

Using a template copies it (``step_from_template``, ``steps_of``); the step remembers where it
came from (``source_template {id, version}``), and later edits of the template never reach it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from uuid import UUID

from domain import validation as v
from domain.errors import InvalidInputError
from domain.steps import Step
from domain.triggers import validate_trigger

KINDS = ("step", "sequence")
SOURCES = ("builtin", "tenant")
CATEGORIES = ("onboarding", "nurture", "re-engagement", "follow-up")
_CATEGORY = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
BUILTIN_PREFIX = "builtin:"
MAX_STEPS = 100
_NO_ID = UUID(int=0)

_COMMON = {"name", "description", "category"}
_STEP_PARTS = ("delay_amount", "delay_unit", "message_template", "conditions",
               "on_condition_fail")
FIELDS: dict[str, set[str]] = {
    "step": _COMMON | set(_STEP_PARTS),
    "sequence": _COMMON | {"trigger_type", "trigger_data", "steps"},
}


def category(value: object, where: str = "category") -> str:
    text = v.text(value, where, max_len=40)
    if not _CATEGORY.match(text):
        raise InvalidInputError(where, "is one of onboarding, nurture, re-engagement, "
                                       "follow-up, or your own: lowercase letters, digits and "
                                       "'-', starting with a letter, at most 40 characters")
    return text


def validate(kind: str, data: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    """The template's body as stored: every field checked like the step or sequence it
    becomes (422 naming the field); absent optional fields get their defaults."""
    kind = v.choice(kind, "kind", KINDS)
    prefix = f"{where}." if where else ""
    v.reject_unknown(data, FIELDS[kind], where)
    body: dict[str, Any] = {
        "name": v.text(data.get("name"), f"{prefix}name", max_len=200).strip(),
        "description": v.text(data.get("description", ""), f"{prefix}description",
                              max_len=2000, required=False),
        "category": category(data.get("category"), f"{prefix}category"),
    }
    if kind == "step":
        step = Step.from_dict(_NO_ID, {"order": 0, "name": body["name"],
                                       **{k: data[k] for k in _STEP_PARTS if k in data}}, where)
        return {**body, **_parts(step)}
    trigger_type, trigger_data = validate_trigger(data.get("trigger_type", "manual"),
                                                  data.get("trigger_data"))
    raw = data.get("steps")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_STEPS:
        raise InvalidInputError(f"{prefix}steps",
                                f"must be a list of 1 to {MAX_STEPS} steps")
    steps = [_step_of(item, f"{prefix}steps[{i}]", default_order=i)
             for i, item in enumerate(raw)]
    orders = [s["order"] for s in steps]
    for i, order in enumerate(orders):
        if order in orders[:i]:
            raise InvalidInputError(f"{prefix}steps[{i}].order",
                                    f"order {order} is used twice")
    return {**body, "trigger_type": trigger_type, "trigger_data": trigger_data,
            "steps": sorted(steps, key=lambda s: int(s["order"]))}


def _step_of(item: object, where: str, default_order: int) -> dict[str, Any]:
    d = v.require_mapping(item, where)
    step = Step.from_dict(_NO_ID, {"order": default_order, **d}, where)
    return {"order": step.order, "name": step.name, **_parts(step)}


def _parts(step: Step) -> dict[str, Any]:
    whole = step.to_dict()
    return {key: whole[key] for key in _STEP_PARTS}


def step_from_template(step_id: UUID, template: Mapping[str, Any], order: int,
                       overrides: Mapping[str, Any] | None = None,
                       where: str = "overrides") -> Step:
    """A step copied from a step template (``template``: the view of ``described``), with
    ``overrides`` (any step field but its order) applied and validated like a new step."""
    if template["kind"] != "step":
        raise InvalidInputError("template_id", f"{template['id']} is a sequence template; "
                                               "a step is made from a step template")
    extra = dict(overrides or {})
    if "order" in extra:
        raise InvalidInputError(f"{where}.order", "give the order beside template_id")
    body = template["body"]
    data = {"order": order, "name": body["name"],
            **{key: body[key] for key in _STEP_PARTS}, **extra}
    try:
        step = Step.from_dict(step_id, data)
    except InvalidInputError as error:
        # The template itself was valid when saved: a field that fails is one overridden.
        root = error.field.split(".")[0].split("[")[0]
        if root in extra:
            raise InvalidInputError(f"{where}.{error.field}", error.reason) from None
        raise
    return replace(step, source_template=provenance(template))


def steps_of(template: Mapping[str, Any], new_ids: list[UUID]) -> list[Step]:
    """Copies of a sequence template's steps, each remembering the template."""
    source = provenance(template)
    return [replace(Step.from_dict(step_id, dict(item), f"steps[{i}]"), source_template=source)
            for i, (step_id, item) in enumerate(zip(new_ids, template["body"]["steps"],
                                                    strict=True))]


def provenance(template: Mapping[str, Any]) -> tuple[str, int]:
    return str(template["id"]), int(template["version"])


def described(template_id: str, kind: str, body: Mapping[str, Any], *, source: str,
              version: int, created_at: Any = None,
              updated_at: Any = None, cloned_from: str | None = None) -> dict[str, Any]:
    """A template as the API shows it, built-in or the tenant's."""
    return {"id": template_id, "kind": kind, "source": source, "version": version,
            "name": body["name"], "description": body["description"],
            "category": body["category"], "body": dict(body), "cloned_from": cloned_from,
            "created_at": created_at, "updated_at": updated_at}


# --- the built-ins ----------------------------------------------------------------------------

def _text(content: str, channel: str = "whatsapp", **variables: str) -> dict[str, Any]:
    return {"type": "text", "content": content, "variables": variables, "channel": channel}


_NO_REPLY = [{"type": "last_activity", "operator": "is_null", "field": "last_reply_at"}]
_STEP_TEMPLATES: dict[str, dict[str, Any]] = {
    "welcome-message": {
        "name": "Welcome Message", "category": "onboarding",
        "description": "A warm welcome, sent at once.",
        "delay_amount": 0, "delay_unit": "minutes",
        "message_template": _text("Welcome to {{company}}, {{contact.name}}! We're excited to "
                                  "have you.", company="our community",
                                  **{"contact.name": "there"})},
    "setup-guide": {
        "name": "Setup Guide", "category": "onboarding",
        "description": "A day after sign-up: how to get started.",
        "delay_amount": 1, "delay_unit": "days",
        "message_template": _text("Here's a quick guide to get you started: [link]")},
    "signup-thanks": {
        "name": "Thanks for Signing Up", "category": "onboarding",
        "description": "The seed's simple text message.",
        "delay_amount": 0, "delay_unit": "minutes",
        "message_template": _text("Hi {{contact.name}}, thanks for signing up!",
                                  **{"contact.name": "there"})},
    "whatsapp-welcome-template": {
        "name": "WhatsApp Welcome Template", "category": "onboarding",
        "description": "An approved WhatsApp template with positional variables.",
        "delay_amount": 0, "delay_unit": "minutes",
        "message_template": {"type": "template", "template_id": "welcome_message_v1",
                             "variables": {"1": "{{contact.name}}", "2": "Premium Plan"},
                             "channel": "whatsapp"}},
    "product-demo": {
        "name": "Product Demo Video", "category": "nurture",
        "description": "A media message with a demo video.",
        "delay_amount": 3, "delay_unit": "days",
        "message_template": {"type": "media", "content": "Check out this product demo!",
                             "media_url": "https://cdn.example.com/demo.mp4",
                             "channel": "whatsapp"}},
    "check-in-if-no-reply": {
        "name": "Check-in (no reply yet)", "category": "follow-up",
        "description": "Sent only to contacts who have not replied; skipped otherwise.",
        "delay_amount": 7, "delay_unit": "days",
        "message_template": _text("How's your experience so far? Reply if you need any help!"),
        "conditions": _NO_REPLY, "on_condition_fail": "skip"},
    "vip-offer": {
        "name": "VIP Offer", "category": "nurture",
        "description": "Only for contacts tagged vip; skipped otherwise.",
        "delay_amount": 2, "delay_unit": "days",
        "message_template": _text("As one of our VIPs, {{contact.name}}, you get early access.",
                                  **{"contact.name": "friend"}),
        "conditions": [{"type": "tag", "operator": "has", "value": "vip"}],
        "on_condition_fail": "skip"},
    "we-miss-you": {
        "name": "We Miss You", "category": "re-engagement",
        "description": "A gentle nudge to an inactive contact.",
        "delay_amount": 0, "delay_unit": "minutes",
        "message_template": _text("We noticed you haven't been around lately. "
                                  "Is everything okay?")},
}

_SEQUENCE_TEMPLATES: dict[str, dict[str, Any]] = {
    "onboarding-welcome": {
        "name": "Welcome Onboarding", "category": "onboarding",
        "description": "Five steps over two weeks for new users (the seed's pattern 1).",
        "trigger_type": "tag_added", "trigger_data": {"tag_name": "new-user"},
        "steps": [
            {"name": "Welcome Message", "delay_amount": 0, "delay_unit": "minutes",
             "message_template": _text("Welcome! 👋 We're excited to have you on board.")},
            {"name": "Setup Guide", "delay_amount": 1, "delay_unit": "days",
             "message_template": _text("Here's a quick guide to get you started: [link]")},
            {"name": "Feature Highlight", "delay_amount": 3, "delay_unit": "days",
             "message_template": {"type": "media",
                                  "content": "Check out our most popular feature!",
                                  "media_url": "https://cdn.example.com/demo.mp4"}},
            {"name": "Check-in Message", "delay_amount": 7, "delay_unit": "days",
             "message_template": _text("How's your experience so far? Reply if you need "
                                       "any help!"),
             "conditions": _NO_REPLY, "on_condition_fail": "skip"},
            {"name": "Upgrade Offer", "delay_amount": 14, "delay_unit": "days",
             "message_template": {"type": "template", "template_id": "upgrade_offer",
                                  "variables": {"discount_code": "UPGRADE20"}}},
        ]},
    "lead-nurture": {
        "name": "Lead Nurture", "category": "nurture",
        "description": "Nurture cold leads to warm prospects (the seed's pattern 2).",
        "trigger_type": "tag_added", "trigger_data": {"tag_name": "cold-lead"},
        "steps": [
            {"name": "Introduction", "delay_amount": 5, "delay_unit": "minutes",
             "message_template": _text("Hi {{contact.name}}, I saw you're interested in "
                                       "{{product}}. Would you like to schedule a demo?",
                                       product="our product", **{"contact.name": "there"})},
            {"name": "Case Study", "delay_amount": 2, "delay_unit": "days",
             "message_template": _text("Here's how we helped {{company}} increase "
                                       "conversions by 50%: [link]",
                                       company="a team like yours")},
            {"name": "Final Offer", "delay_amount": 5, "delay_unit": "days",
             "message_template": _text("Last chance! Book a demo this week and get 20% off "
                                       "your first month.")},
        ]},
    "win-back": {
        "name": "Win-back", "category": "re-engagement",
        "description": "Re-engage inactive contacts, enrolled by hand (the seed's pattern 3).",
        "trigger_type": "manual", "trigger_data": {},
        "steps": [
            {"name": "We Miss You", "delay_amount": 0, "delay_unit": "minutes",
             "message_template": _text("We noticed you haven't been around lately. "
                                       "Is everything okay?")},
            {"name": "Special Offer", "delay_amount": 3, "delay_unit": "days",
             "message_template": _text("As a token of appreciation, here's 25% off your "
                                       "next purchase: CODE25")},
            {"name": "Feedback Request", "delay_amount": 7, "delay_unit": "days",
             "message_template": _text("Would you mind sharing why you stopped using our "
                                       "service? [survey link]")},
            {"name": "Final Goodbye", "delay_amount": 14, "delay_unit": "days",
             "message_template": _text("We're sad to see you go. If you ever need us, we're "
                                       "just a message away.")},
        ]},
    "webinar-follow-up": {
        "name": "Webinar Follow-up", "category": "follow-up",
        "description": "Follow up with webinar attendees (the seed's pattern 4).",
        "trigger_type": "form_submit",
        "trigger_data": {"form_id": "webinar-registration", "form_name": "Webinar"},
        "steps": [
            {"name": "Thank You", "delay_amount": 1, "delay_unit": "hours",
             "message_template": _text("Thanks for attending today's webinar! Here's the "
                                       "recording: [link]")},
            {"name": "Additional Resources", "delay_amount": 2, "delay_unit": "days",
             "message_template": _text("Here are the slides and additional resources we "
                                       "mentioned: [link]")},
            {"name": "Book Consultation", "delay_amount": 5, "delay_unit": "days",
             "message_template": _text("Want to discuss how we can help you? Book a free "
                                       "consultation: [calendar link]"),
             "conditions": [{"type": "custom_field", "operator": "greater_than",
                             "value": "0", "field": "engagement_score"}]},
        ]},
}


def _builtins() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for kind, table in (("step", _STEP_TEMPLATES), ("sequence", _SEQUENCE_TEMPLATES)):
        for name, data in table.items():
            template_id = BUILTIN_PREFIX + name
            found[template_id] = described(template_id, kind, validate(kind, data),
                                           source="builtin", version=1)
    return found


BUILTINS: dict[str, dict[str, Any]] = _builtins()

"""Read-model rows shaped like the API's resources (DESIGN 3.3): ids as strings, times as
aware datetimes, JSON columns decoded, booleans as booleans on both databases."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from domain.template_library import described
from projections.db import as_datetime
from projections.models.sequence_stats import STEP_COUNTERS, VARIANT_COUNTERS
from projections.queries import DueEnrollment

Row = dict[str, Any]


def _times(row: Row, *columns: str) -> None:
    for column in columns:
        row[column] = as_datetime(row[column])


def sequence(r: Row) -> Row:
    """Steps and journey settings are the live revision's (revision 1's before activation);
    ``revision`` is the live one (None until activated), ``draft_revision`` the one being
    edited, if any."""
    out = {"id": r["sequence_id"], **{k: r[k] for k in (
        "tenant_id", "name", "description", "status", "trigger_type", "cloned_from",
        "version", "created_at", "updated_at", "activated_at", "resume_policy", "revision",
        "draft_revision")}}
    out["exit_on_reply"] = bool(r["exit_on_reply"])
    for column in ("trigger_data", "reenrollment", "steps", "send_window", "goal"):
        out[column] = json.loads(r[column])
    _times(out, "created_at", "updated_at", "activated_at")
    return out


def template(r: Row) -> Row:
    """A tenant's template as the API shows it (``domain.template_library.described``)."""
    return described(r["template_id"], r["kind"], json.loads(r["body"]), source="tenant",
                     version=int(r["version"]), created_at=as_datetime(r["created_at"]),
                     updated_at=as_datetime(r["updated_at"]), cloned_from=r["cloned_from"])


def enrollment(r: Row) -> Row:
    out = {"id": r["enrollment_id"], **{k: r[k] for k in (
        "tenant_id", "sequence_id", "contact_id", "number", "source", "status",
        "current_step_order", "next_scheduled_at", "enrolled_at", "completed_at", "exited_at",
        "exit_reason", "exit_detail", "version", "updated_at", "entered_at", "revision",
        "converted_at")}}
    out["paused_by_sequence"] = bool(r["paused_by_sequence"])
    out["holdout"], out["assignments"] = bool(r["holdout"]), json.loads(r["assignments"])
    _times(out, "next_scheduled_at", "enrolled_at", "completed_at", "exited_at", "updated_at",
           "entered_at", "converted_at")
    return out


def message(r: Row) -> Row:
    out = dict(r)
    out["variables"] = json.loads(r["variables"])
    _times(out, "requested_at", "updated_at", "opened_at", "clicked_at", "replied_at",
           "unsubscribed_at")
    return out


# A funnel row's counters are shown by their column names, but for ``requested``: shown as
# ``message_requested``, it is what the engagement summary calls ``sent``.
_SHOWN = {"requested": "message_requested"}
_SUMS = {"reply_seconds"}  # not a count: seconds added up


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def rates(counts: Row) -> Row:
    """CAPABILITIES §2 rule 5: over deliveries when there are any, else over sends (the base
    is named); None where the divisor is 0. Machine opens and bot clicks are in no rate."""
    sent = int(counts["message_requested"] if "message_requested" in counts else counts["sent"])
    delivered, opened = int(counts["delivered"]), int(counts["opened"])
    clicked = int(counts["clicked"])
    base = delivered if delivered else sent
    return {"base": "delivered" if delivered else "sent", "open_rate": _ratio(opened, base),
            "click_rate": _ratio(clicked, base), "click_to_open": _ratio(clicked, opened),
            "reply_rate": _ratio(counts["replied"], base),
            "unsubscribe_rate": _ratio(counts["unsubscribed"], base)}


def _average(total: float, count: int) -> float | None:
    return round(total / count, 3) if count else None


def engagement(steps: list[Row]) -> Row:
    """The engagement counters of the funnel entries added up, with their rates."""
    out: Row = {"sent": sum(s["message_requested"] for s in steps)}
    for key in ("delivered", "opened", "opened_machine", "clicked", "clicked_bot", "replied",
                "unsubscribed"):
        out[key] = sum(s[key] for s in steps)
    waited = sum((s["avg_seconds_to_first_reply"] or 0) * s["replied"] for s in steps)
    out["avg_seconds_to_first_reply"] = _average(waited, out["replied"])
    out["rates"] = rates(out)
    return out


def _variants(rows: list[Row]) -> dict[str, list[Row]]:
    """Per step id, its A/B arms' counters (added up across revisions) with their rates."""
    arms: dict[str, dict[str, Row]] = {}
    for r in rows:
        entry = arms.setdefault(r["step_id"], {}).setdefault(r["variant"], {
            "variant": r["variant"], **{_SHOWN.get(c, c): 0 for c in VARIANT_COUNTERS}})
        for column in VARIANT_COUNTERS:
            entry[_SHOWN.get(column, column)] += int(r[column])
    return {step: [{**e, "rates": rates(e)} for _, e in sorted(by_arm.items())]
            for step, by_arm in arms.items()}


def _by_reason(found: Sequence[Row]) -> dict[str, dict[str, int]]:
    """Counts by step id, then by reason, added up across revisions."""
    out: dict[str, dict[str, int]] = {}
    for s in found:
        reasons = out.setdefault(s["step_id"], {})
        reasons[s["reason"]] = reasons.get(s["reason"], 0) + int(s["n"])
    return out


def stats(head: Row, totals: list[Row], exits: list[Row], steps: list[Row],
          skips: list[Row], revision: int | None, variants: list[Row] | None = None,
          deferrals: Sequence[Row] = ()) -> Row:
    """The counters of the given rows added up: one revision's, or all of them (``revision``
    None). A step's entry adds up its rows by step id across the revisions that have it,
    with its order in the latest of them; entries go by that order (an older step before
    the one that took its order). ``engagement`` adds up the entries shown, each with its
    rates (the rates of sums, not sums of rates)."""
    def total(column: str) -> int:
        return sum(int(r[column]) for r in totals)

    enrolled, completed = total("total_enrolled"), total("completed_count")
    seconds = sum(float(r["completion_seconds"]) for r in totals)
    by_reason: dict[str, int] = {}
    for e in exits:
        by_reason[e["reason"]] = by_reason.get(e["reason"], 0) + int(e["n"])
    skipped, deferred = _by_reason(skips), _by_reason(deferrals)
    funnel: dict[str, Row] = {}
    latest: dict[str, int] = {}
    for s in sorted(steps, key=lambda s: int(s["revision"])):
        entry = funnel.setdefault(s["step_id"], {
            "step_id": s["step_id"], "step_order": s["step_order"],
            "skipped": skipped.get(s["step_id"], {}),
            "deferred": {"frequency_cap": 0, "throttle": 0, **deferred.get(s["step_id"], {})},
            **{_SHOWN.get(c, c): 0 for c in STEP_COUNTERS}})
        entry["step_order"], latest[s["step_id"]] = s["step_order"], int(s["revision"])
        for column in STEP_COUNTERS:
            entry[_SHOWN.get(column, column)] += float(s[column]) if column in _SUMS else int(
                s[column])
    arms = _variants(variants or [])
    for entry in funnel.values():
        entry["rates"] = rates(entry)
        entry["variants"] = arms.get(entry["step_id"], [])
        entry["avg_seconds_to_first_reply"] = _average(entry.pop("reply_seconds"),
                                                       entry["replied"])
    steps_out = sorted(funnel.values(), key=lambda e: (
        e["step_order"], latest[e["step_id"]], e["step_id"]))
    return {
        "sequence_id": head["sequence_id"],
        "revision": revision,
        "total_enrolled": enrolled,
        "active_count": total("active_count"),
        "paused_count": total("paused_count"),
        "completed_count": completed,
        "exited_count": total("exited_count"),
        "completion_rate": completed / enrolled if enrolled else 0.0,
        "exits_by_reason": dict(sorted(by_reason.items())),
        "avg_completion_seconds": seconds / completed if completed else None,
        "steps": steps_out,
        "engagement": engagement(steps_out),
    }


def due(r: Row) -> DueEnrollment:
    due_at = as_datetime(r["due_at"])
    if due_at is None:  # the query selects only rows with a due time
        raise ValueError(f"due row {r['enrollment_id']} has no due time")
    return DueEnrollment(enrollment_id=UUID(r["enrollment_id"]), tenant_id=r["tenant_id"],
                         sequence_id=UUID(r["sequence_id"]), contact_id=r["contact_id"],
                         step_order=int(r["step_order"]), due_at=due_at,
                         extra={"retry_step": r["retry_step"]})

"""The ``conversions`` read model's rows shaped for the API (CAPABILITIES §3): a conversion
as listed, and a sequence's conversion statistics.

Rates follow §2 rule 5: ``conversion_rate`` = converted / enrolled, the holdout left out,
null when nobody is enrolled; ``lift`` = (rate - holdout rate) / holdout rate, null when the
holdout's rate is 0 or unknown. Rates and lift are rounded to 3 decimals (as the engagement
rates are), after computing with the exact values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from projections.db import as_datetime

Row = dict[str, Any]
SELECT_ENROLLED = ("SELECT holdout, COUNT(*) AS n FROM {table} WHERE tenant_id = %s "
                   "AND sequence_id = %s{revision} GROUP BY holdout")
SELECT_CONVERTED = (
    "SELECT holdout, COUNT(*) AS n, SUM(CASE WHEN is_exclusive THEN 1 ELSE 0 END) AS "
    "exclusive, SUM(seconds_to_convert) AS seconds FROM {table} WHERE tenant_id = %s "
    "AND sequence_id = %s{revision} GROUP BY holdout")


def conversion(r: Row) -> Row:
    return {"event_id": r["event_id"], "event_type": r["event_type"],
            "occurred_at": as_datetime(r["occurred_at"]), "tenant_id": r["tenant_id"],
            "contact_id": r["contact_id"], "sequence_id": r["sequence_id"],
            "enrollment_id": r["enrollment_id"], "revision": int(r["revision"]),
            "message_id": r["message_id"], "step_id": r["step_id"],
            "step_order": None if r["step_order"] is None else int(r["step_order"]),
            "variant": r["variant"], "holdout": bool(r["holdout"]),
            "exclusive": bool(r["is_exclusive"])}


def list_filter(tenant_id: str, filters: Sequence[tuple[str, str, Any]]) -> tuple[str, list[Any]]:
    """The WHERE clause of a list: the tenant, then each (column, operator, value) given."""
    where, params = "tenant_id = %s", [tenant_id]
    for column, operator, value in filters:
        if value is not None:
            where, params = f"{where} AND {column} {operator} %s", [*params, value]
    return where, params


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _rounded(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


def stats(enrolled: Sequence[Row], converted: Sequence[Row], goal: str | None) -> Row:
    """The ``conversions`` block of a sequence's statistics."""
    counts = {bool(r["holdout"]): int(r["n"]) for r in enrolled}
    done = {bool(r["holdout"]): r for r in converted}
    treated, held = done.get(False), done.get(True)
    n = int(treated["n"]) if treated else 0
    held_n = int(held["n"]) if held else 0
    rate = _rate(n, counts.get(False, 0))
    held_rate = _rate(held_n, counts.get(True, 0))
    return {
        "goal": json.loads(goal) if goal else None,
        "converted": n,
        "converted_exclusive": int(treated["exclusive"] or 0) if treated else 0,
        "conversion_rate": _rounded(rate),
        "avg_seconds_to_convert": float(treated["seconds"]) / n if treated and n else None,
        "holdout": {"enrolled": counts.get(True, 0), "converted": held_n,
                    "conversion_rate": _rounded(held_rate)},
        "lift": _rounded((rate - held_rate) / held_rate) if rate is not None and held_rate
        else None,
    }

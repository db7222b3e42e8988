"""The daily series of a sequence: its 15-minute UTC buckets (``engagement_buckets``) folded
into the local days of a time zone. Every zone's offset is a multiple of 15 minutes, so each
bucket lies within one local day and the days are exact; days with nothing are zeros."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from projections.models.engagement_buckets import BUCKET_SECONDS, COUNTERS


def bucket_range(first: date, last: date, zone: ZoneInfo) -> tuple[int, int]:
    """The buckets from the start of local day ``first`` to the end of ``last`` (exclusive)."""
    start = datetime.combine(first, time(), zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)
    return int(start.timestamp()) // BUCKET_SECONDS, int(end.timestamp()) // BUCKET_SECONDS


def fold(rows: Sequence[Mapping[str, Any]], first: date, last: date,
         zone: ZoneInfo) -> list[dict[str, Any]]:
    """One item per local day from ``first`` to ``last``, each the sum of its buckets."""
    days: dict[date, dict[str, Any]] = {}
    day = first
    while day <= last:
        days[day] = {"date": day.isoformat(), **dict.fromkeys(COUNTERS, 0)}
        day += timedelta(days=1)
    for row in rows:
        local = datetime.fromtimestamp(int(row["bucket"]) * BUCKET_SECONDS, UTC).astimezone(zone)
        item = days.get(local.date())
        if item is not None:
            for counter in COUNTERS:
                item[counter] += int(row[counter])
    return list(days.values())

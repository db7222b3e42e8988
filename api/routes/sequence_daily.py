"""A sequence's daily series: its counters per local day of a time zone."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Query

from api.auth import Tenant
from api.deps import Core, ReadModels
from api.problems import ApiError, responses
from api.routes import API
from api.schemas.common import Page
from api.schemas.daily import DayOut
from projections.daily import bucket_range as daily_range

router = APIRouter(prefix=API + "/automation/sequences/{sequence_id}/stats", tags=["stats"],
                   responses=responses(401, 404, 422))
MAX_DAYS = 366


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(422, f"tz: unknown time zone {name!r}; use an IANA name like "
                            "'Europe/Berlin'", field="tz") from None


@router.get("/daily", response_model=Page[DayOut], responses=responses(503),
            summary="Counters per local day (15-minute UTC buckets folded into the days of tz)")
def daily_stats(
    tenant: Tenant, core: Core, queries: ReadModels, sequence_id: UUID,
    from_: Annotated[date | None, Query(alias="from", description=(
        "First local day (inclusive); default: 29 days before `to`"))] = None,
    to: Annotated[date | None, Query(description="Last local day (inclusive); default: "
                                                  "today in tz")] = None,
    tz: Annotated[str, Query(max_length=64, description="IANA time zone of the days")] = "UTC",
    revision: Annotated[int | None, Query(ge=1, le=1_000_000, description=(
        "Only this revision's enrollments (default: all)"))] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_DAYS)] = MAX_DAYS,
) -> Page[DayOut]:
    zone = _zone(tz)
    sequence = core.get_sequence(tenant, sequence_id)  # 404 unless the tenant's
    if revision is not None:
        sequence.revision(revision)
    last = to or core.clock().astimezone(zone).date()
    try:
        first = from_ or last - timedelta(days=29)
        daily_range(first, last, zone)  # a day the calendar (or the zone) cannot hold: 422
    except OverflowError:
        raise ApiError(422, "from: the days asked for lie outside the supported calendar "
                            "(years 1 to 9999, whole days in the zone)", field="from") from None
    if last < first:
        raise ApiError(422, f"to: {last} is before from ({first})", field="to")
    if (last - first).days + 1 > MAX_DAYS:
        raise ApiError(422, f"from: at most {MAX_DAYS} days at once; asked for "
                            f"{(last - first).days + 1}", field="from")
    days = queries.daily_stats(tenant, sequence_id, first, last, zone, revision)
    shown = days[(page - 1) * limit:page * limit]
    return Page[DayOut](items=[DayOut.model_validate(d) for d in shown], total=len(days),
                        page=page, limit=limit)

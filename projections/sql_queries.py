"""``Queries`` over the read models' live tables. Every method takes the tenant first and
puts it in the WHERE clause here, so scoping lives in one place (CONVENTIONS 9)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.template_library import BUILTINS
from domain.trials import Tally
from projections import conversion_rows, daily, experiment_rows, rows
from projections import generations as gens
from projections.db import ReadDb
from projections.models.base import table_name
from projections.models.engagement_buckets import COUNTERS
from projections.queries import DueEnrollment, Page

T = TypeVar("T")


class SqlQueries:
    def __init__(self, db: ReadDb) -> None:
        self.db = db

    def _live(self, model: str, read: Callable[[Callable[[str], str]], T]) -> T:
        """Run ``read`` with the model's live table names. A replay may switch generations
        and drop the old tables between the name lookup and the read: look up once more."""
        for attempt in (1, 2):
            names = _names(gens.live_generation(self.db, model).generation)
            try:
                return read(names)
            except Exception as error:
                if attempt == 2 or not _is_missing_table(error):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _page(self, table: str, where: str, params: list[Any], order: str, page: int,
              limit: int, shape: Callable[[dict[str, Any]], dict[str, Any]]) -> Page:
        page, limit = max(page, 1), min(max(limit, 1), 500)
        total = self.db.read(f"SELECT COUNT(*) AS n FROM {table} WHERE {where}", params)
        found = self.db.read(f"SELECT * FROM {table} WHERE {where} ORDER BY {order} "
                             "LIMIT %s OFFSET %s", [*params, limit, (page - 1) * limit])
        return Page([shape(r) for r in found], int(total[0]["n"]), page, limit)

    def list_sequences(self, tenant_id: str, *, status: str | None = None,
                       trigger_type: str | None = None, page: int = 1,
                       limit: int = 50) -> Page:
        where, params = "tenant_id = %s AND status <> 'deleted'", [tenant_id]
        if status is not None:
            where, params = where + " AND status = %s", [*params, status]
        if trigger_type is not None:
            where, params = where + " AND trigger_type = %s", [*params, trigger_type]
        return self._live("sequences", lambda t: self._page(
            t("sequences"), where, params, "created_at, sequence_id", page, limit,
            rows.sequence))

    def experiment_counts(self, tenant_id: str, sequence_id: UUID, revision: int,
                          experiment_id: str, arms: Sequence[str], metric: str,
                          window: timedelta, now: datetime) -> dict[str, Tally]:
        return self._live(experiment_rows.MODEL, lambda _: experiment_rows.counts(
            self.db, tenant_id, sequence_id, revision, experiment_id, arms, metric, window,
            now))

    def daily_stats(self, tenant_id: str, sequence_id: UUID, first: date, last: date,
                    zone: ZoneInfo, revision: int | None = None) -> list[dict[str, Any]]:
        low, high = daily.bucket_range(first, last, zone)
        sums = ", ".join(f"SUM({c}) AS {c}" for c in COUNTERS)
        where = "tenant_id = %s AND sequence_id = %s AND bucket >= %s AND bucket < %s"
        params: list[Any] = [tenant_id, str(sequence_id), low, high]
        if revision is not None:
            where, params = where + " AND revision = %s", [*params, revision]
        found = self._live("engagement_buckets", lambda t: self.db.read(
            f"SELECT bucket, {sums} FROM {t('eb_buckets')} WHERE {where} GROUP BY bucket",
            params))
        return daily.fold(found, first, last, zone)

    def get_sequence(self, tenant_id: str, sequence_id: UUID) -> dict[str, Any] | None:
        found = self._live("sequences", lambda t: self.db.read(
            f"SELECT * FROM {t('sequences')} WHERE tenant_id = %s AND sequence_id = %s "
            "AND status <> 'deleted'", [tenant_id, sequence_id]))
        return rows.sequence(found[0]) if found else None

    def list_enrollments(self, tenant_id: str, sequence_id: UUID, *, status: str | None = None,
                         page: int = 1, limit: int = 50) -> Page:
        where, params = "tenant_id = %s AND sequence_id = %s", [tenant_id, str(sequence_id)]
        if status is not None:
            where, params = where + " AND status = %s", [*params, status]
        return self._live("enrollments", lambda t: self._page(
            t("enrollments"), where, params, "enrolled_at, enrollment_id", page, limit,
            rows.enrollment))

    def contact_enrollments(self, tenant_id: str, contact_id: str, *,
                            status: str | None = None) -> list[dict[str, Any]]:
        where, params = "tenant_id = %s AND contact_id = %s", [tenant_id, contact_id]
        if status is not None:
            where, params = where + " AND status = %s", [*params, status]
        found = self._live("enrollments", lambda t: self.db.read(
            f"SELECT * FROM {t('enrollments')} WHERE {where} "
            "ORDER BY enrolled_at, enrollment_id", params))
        return [rows.enrollment(r) for r in found]

    def sequence_stats(self, tenant_id: str, sequence_id: UUID,
                       revision: int | None = None) -> dict[str, Any] | None:
        def read(t: Callable[[str], str]) -> dict[str, Any] | None:
            key: list[Any] = [str(sequence_id)]
            head = self.db.read(f"SELECT * FROM {t('stats')} WHERE sequence_id = %s "
                                "AND tenant_id = %s AND deleted = FALSE", [*key, tenant_id])
            if not head:
                return None
            where, params = "sequence_id = %s", key
            if revision is not None:
                where, params = where + " AND revision = %s", [*key, revision]
            found = {base: self.db.read(f"SELECT * FROM {t(base)} WHERE {where}", params)
                     for base in ("stats_totals", "stats_exits", "stats_steps", "stats_skips",
                                  "stats_variants", "stats_deferrals")}
            return rows.stats(head[0], found["stats_totals"], found["stats_exits"],
                              found["stats_steps"], found["stats_skips"], revision,
                              variants=found["stats_variants"],
                              deferrals=found["stats_deferrals"])
        return self._live("sequence_stats", read)

    def revision_counts(self, tenant_id: str, sequence_id: UUID) -> dict[int, int]:
        found = self._live("enrollments", lambda t: self.db.read(
            f"SELECT revision, COUNT(*) AS n FROM {t('enrollments')} WHERE tenant_id = %s "
            "AND sequence_id = %s AND status IN ('active', 'paused') GROUP BY revision "
            "ORDER BY revision", [tenant_id, str(sequence_id)]))
        return {int(r["revision"]): int(r["n"]) for r in found}

    def list_messages(self, tenant_id: str, *, contact_id: str | None = None,
                      sequence_id: UUID | None = None, enrollment_id: UUID | None = None,
                      page: int = 1, limit: int = 50) -> Page:
        where, params = "tenant_id = %s", [tenant_id]
        for column, value in (("contact_id", contact_id), ("sequence_id", sequence_id),
                              ("enrollment_id", enrollment_id)):
            if value is not None:
                where, params = f"{where} AND {column} = %s", [*params, str(value)]
        return self._live("messages", lambda t: self._page(
            t("messages"), where, params, "requested_at, message_id", page, limit,
            rows.message))

    def list_conversions(self, tenant_id: str, *, contact_id: str | None = None,
                         sequence_id: UUID | None = None, since: datetime | None = None,
                         until: datetime | None = None, page: int = 1,
                         limit: int = 50) -> Page:
        where, params = conversion_rows.list_filter(tenant_id, [
            ("contact_id", "=", contact_id),
            ("sequence_id", "=", str(sequence_id) if sequence_id else None),
            ("occurred_at", ">=", since), ("occurred_at", "<=", until)])
        return self._live("conversions", lambda t: self._page(
            t("conversions"), where, params, "occurred_at, enrollment_id", page, limit,
            conversion_rows.conversion))

    def conversion_stats(self, tenant_id: str, sequence_id: UUID,
                         revision: int | None = None) -> dict[str, Any]:
        key: list[Any] = [tenant_id, str(sequence_id)]
        only = " AND revision = %s" if revision is not None else ""
        params = [*key, revision] if revision is not None else key
        enrolled, converted = self._live("conversions", lambda t: (
            self.db.read(conversion_rows.SELECT_ENROLLED.format(
                table=t("conversion_enrollments"), revision=only), params),
            self.db.read(conversion_rows.SELECT_CONVERTED.format(
                table=t("conversions"), revision=only), params)))
        goal = self._live("sequences", lambda t: self.db.read(
            f"SELECT goal FROM {t('sequence_revisions')} WHERE tenant_id = %s AND "
            "sequence_id = %s AND revision = %s", params) if revision is not None else
            self.db.read(f"SELECT goal FROM {t('sequences')} WHERE tenant_id = %s AND "
                         "sequence_id = %s", key))
        return conversion_rows.stats(enrolled, converted, goal[0]["goal"] if goal else None)

    def list_templates(self, tenant_id: str, *, kind: str | None = None,
                       category: str | None = None, source: str | None = None,
                       q: str | None = None, page: int = 1, limit: int = 50) -> Page:
        page, limit = max(page, 1), min(max(limit, 1), 500)
        words = q.lower().strip() if q else ""
        builtins = [] if source == "tenant" else [
            t for t in BUILTINS.values()
            if (kind is None or t["kind"] == kind)
            and (category is None or t["category"] == category)
            and (not words or words in f"{t['name']}\n{t['description']}".lower())]
        builtins.sort(key=lambda t: (t["kind"], t["name"], t["id"]))
        offset = (page - 1) * limit
        items = builtins[offset:offset + limit]
        if source == "builtin":
            return Page(items, len(builtins), page, limit)
        where, params = "tenant_id = %s", [tenant_id]
        for column, value in (("kind", kind), ("category", category)):
            if value is not None:
                where, params = where + f" AND {column} = %s", [*params, value]
        if words:
            escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where, params = where + " AND search LIKE %s ESCAPE '\\'", [*params,
                                                                         f"%{escaped}%"]
        own_offset = max(offset - len(builtins), 0)
        own_limit = limit - len(items)
        found, total = self._live("templates", lambda t: (
            self.db.read(f"SELECT * FROM {t('templates')} WHERE {where} "
                         "ORDER BY kind, name, template_id LIMIT %s OFFSET %s",
                         [*params, own_limit, own_offset]) if own_limit else [],
            self.db.read(f"SELECT COUNT(*) AS n FROM {t('templates')} WHERE {where}",
                         params)))
        return Page(items + [rows.template(r) for r in found],
                    len(builtins) + int(total[0]["n"]), page, limit)

    def due_enrollments(self, now: datetime, limit: int = 500,
                        offset: int = 0) -> list[DueEnrollment]:
        # Across tenants on purpose: the scheduler serves them all. The WHERE repeats the
        # partial index's predicate so the planner can use it.
        found = self._live("due_enrollments", lambda t: self.db.read(
            due_query(t("due")), [now, limit, offset]))
        return [rows.due(r) for r in found]


def due_query(table: str) -> str:
    """The scheduler's scan; parameters: now, limit, offset. Shared with the EXPLAIN test
    and bench."""
    return (f"SELECT * FROM {table} WHERE due_at IS NOT NULL AND due_at <= %s "
            "ORDER BY due_at, enrollment_id LIMIT %s OFFSET %s")


def _names(generation: int) -> Callable[[str], str]:
    return lambda base: table_name(base, generation)


def _is_missing_table(error: Exception) -> bool:
    text = str(error).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)

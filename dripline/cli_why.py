"""``dripline enrollments why|stuck`` (and ``dripline why`` / ``dripline stuck``): the "why"
view and the stuck detector for operators (CAPABILITIES §7). ``stuck`` exits 3 when any
enrollment is stuck, so a cron job can alert on it."""

from __future__ import annotations

import json as json_text
from datetime import timedelta
from functools import partial
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from api.schemas.why import StuckItem, WhyOut
from dripline.bootstrap import Runtime, bootstrap
from projections.stuck import detector

STUCK = 3  # the exit status when some enrollment is stuck
CONTACT_ENROLLMENTS = 5  # the latest enrollments ``dripline why TENANT CONTACT`` explains
console = Console()
enrollments_app = typer.Typer(no_args_is_help=True, help="Explain enrollments; find stuck ones.")

JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON (the HTTP API's shape)")]


def register(app: typer.Typer) -> None:
    app.add_typer(enrollments_app, name="enrollments")
    app.command("why", help="Why an enrollment waits: dripline why ENROLLMENT_ID, or "
                            "dripline why TENANT CONTACT (that contact's latest enrollments)."
                )(why_alias)
    app.command("stuck", help="The same as dripline enrollments stuck.")(stuck)


@enrollments_app.command("why")
def why(enrollment: Annotated[str, typer.Argument(metavar="ID", help="an enrollment id")],
        json: JsonFlag = False) -> None:
    """Why the enrollment waits: its reason, next due time and timeline."""
    enrollment_id = _uuid(enrollment)
    runtime = bootstrap(catch_up_lookups=False)
    try:
        _explain(runtime, [enrollment_id], json)
    finally:
        runtime.close()


def why_alias(first: Annotated[str, typer.Argument(metavar="ENROLLMENT_ID|TENANT")],
              contact: Annotated[str | None, typer.Argument(metavar="[CONTACT]")] = None,
              json: JsonFlag = False) -> None:
    if contact is None:
        why(first, json)
        return
    runtime = bootstrap(catch_up_lookups=False)
    try:
        found = runtime.queries.contact_enrollments(first, contact)
        if not found:
            console.print(f"[red]contact {contact!r} of tenant {first!r} has no enrollments"
                          "[/red]")
            raise typer.Exit(1)
        latest = sorted(found, key=lambda r: (str(r["enrolled_at"]), str(r["id"])),
                        reverse=True)[:CONTACT_ENROLLMENTS]
        _explain(runtime, [UUID(str(r["id"])) for r in latest], json)
    finally:
        runtime.close()


def _explain(runtime: Runtime, enrollment_ids: list[UUID], json: bool) -> None:
    stuck_after = timedelta(seconds=runtime.settings.stuck_after_seconds)
    found = detector(runtime.read_models, runtime.app)
    for enrollment_id in enrollment_ids:
        tenant = runtime.app.why.tenant_of(enrollment_id)
        if tenant is None:
            console.print(f"[red]no enrollment {enrollment_id}[/red]")
            raise typer.Exit(1)
        out = WhyOut.of(runtime.app.why.explain(tenant, enrollment_id, stuck_after,
                                                partial(found.cause_of, enrollment_id)))
        if json:
            print(out.model_dump_json())
        else:
            _print(out)


def _print(out: WhyOut) -> None:
    w = out.waiting
    step = f"step {out.current_step.order} ({out.current_step.name})" if out.current_step else "-"
    console.print(f"enrollment {out.enrollment_id}: {out.status}, {step}, revision "
                  f"{out.revision}", markup=False, highlight=False)
    console.print(f"waiting: {w.reason} since {w.since} until {w.until} {w.detail}; next due "
                  f"{out.next_due_at}; overdue {out.overdue_seconds} s", markup=False,
                  highlight=False)
    table = Table()
    for column in ("at", "type", "summary"):
        table.add_column(column)
    for entry in out.timeline:
        table.add_row(entry.at.isoformat(), entry.type, entry.summary)
    console.print(table)


@enrollments_app.command("stuck")
def stuck(
    older_than: Annotated[int | None, typer.Option(
        "--older-than", min=1, help="seconds overdue (default: DRIPLINE_STUCK_AFTER_SECONDS)",
    )] = None,
    tenant: Annotated[str | None, typer.Option(help="only this tenant's")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    json: JsonFlag = False,
) -> None:
    """Active enrollments overdue past the threshold, each confirmed on its aggregate; exit
    status 3 when there are any, 0 when none."""
    runtime = bootstrap(catch_up_lookups=False)
    try:
        seconds = older_than or runtime.settings.stuck_after_seconds
        report = detector(runtime.read_models, runtime.app).find(
            tenant, timedelta(seconds=seconds), limit=limit)
    finally:
        runtime.close()
    items = [StuckItem.model_validate(i) for i in report.items]
    lag = report.projection_lag
    if json:
        print(_json_report(items, report.total, lag))
    else:
        table = Table(title=f"{report.total} stuck (overdue > {seconds} s)")
        for column in ("enrollment", "sequence", "contact", "step", "due at", "overdue s",
                       "suspected cause"):
            table.add_column(column)
        for i in items:
            table.add_row(str(i.enrollment_id), str(i.sequence_id), i.contact_id,
                          str(i.step_order), i.due_at.isoformat(), str(i.overdue_seconds),
                          i.suspected_cause)
        console.print(table)
        console.print(f"read model due_enrollments: {lag['behind_events']} events behind; "
                      f"{lag['contradicted']} overdue rows contradicted by their aggregate "
                      "(lag, not stuck)", markup=False, highlight=False)
    if report.total:
        raise typer.Exit(STUCK)


def _json_report(items: list[StuckItem], total: int, lag: dict[str, object]) -> str:
    return json_text.dumps({"items": [i.model_dump(mode="json") for i in items],
                              "total": total, "projection_lag": lag})


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        console.print(f"[red]{text!r} is not an enrollment id (a UUID); for a contact give "
                      f"its tenant too: dripline why TENANT {text}[/red]")
        raise typer.Exit(2) from None

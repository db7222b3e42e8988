"""The ``dripline`` command line (DESIGN 3.4)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from domain import ids
from dripline.bootstrap import bootstrap
from dripline.cli_errors import run
from dripline.cli_kafka import register as register_kafka_commands
from dripline.cli_projections import register as register_projection_commands
from dripline.cli_run import register as register_role_commands
from dripline.cli_upgrade import register as register_upgrade_command
from dripline.cli_why import register as register_why_commands

app = typer.Typer(no_args_is_help=True, help="Dripline: an event-sourced drip-sequence engine.")
stream_app = typer.Typer(no_args_is_help=True, help="Inspect the event store.")
app.add_typer(stream_app, name="stream")
register_role_commands(app)
register_projection_commands(app)
register_kafka_commands(app)
register_upgrade_command(app)
register_why_commands(app)
console = Console()


@stream_app.command("show")
def stream_show(
    aggregate: Annotated[str, typer.Argument(
        metavar="ID", help="a sequence or enrollment id (a UUID), or with --tenant the id the "
                           "CRM gave a contact")],
    tenant: Annotated[str | None, typer.Option(
        help="the tenant of the CRM contact id given as ID")] = None,
) -> None:
    """Print an aggregate's event history, oldest first: a sequence or an enrollment by its
    id, a contact by its CRM id and tenant (dripline stream show c-42 --tenant acme)."""
    originator, title = _stream(aggregate, tenant)
    runtime = bootstrap()
    try:
        events = list(runtime.app.events.get(originator))
        if not events:
            console.print(f"[red]no events for {title}[/red]")
            raise typer.Exit(1)
        table = Table(title=title)
        for column in ("version", "type", "at", "data"):
            table.add_column(column)
        for event in events:
            data = {k: v for k, v in event.__dict__.items()
                    if k not in ("originator_id", "originator_version", "timestamp",
                                 "originator_topic", "at")}
            at = getattr(event, "at", None) or getattr(event, "timestamp", None)
            table.add_row(str(event.originator_version), getattr(event, "TOPIC", "?"),
                          at.isoformat() if at else "", _short(data))
        console.print(table)
    finally:
        runtime.close()


def _stream(aggregate: str, tenant: str | None) -> tuple[UUID, str]:
    """The stream to show and its title. A contact's stream id is derived from its tenant
    and CRM id (``domain.ids``), the only place that knows how."""
    if tenant is not None:
        stream = ids.contact_id(tenant, aggregate)
        return stream, f"contact {aggregate!r} of tenant {tenant!r} (stream {stream})"
    try:
        stream = UUID(aggregate)
    except ValueError:
        console.print(f"[red]{aggregate!r} is not an id (expected a UUID); for a contact, "
                      f"give its tenant too: dripline stream show {aggregate} --tenant "
                      "TENANT[/red]")
        raise typer.Exit(2) from None
    return stream, f"stream {stream}"


def _short(data: dict[str, object]) -> str:
    text = ", ".join(f"{k}={v}" for k, v in data.items())
    return text if len(text) <= 200 else text[:197] + "..."


def main() -> None:
    run(app)

"""The ``dripline`` command line (DESIGN 3.4)."""

from __future__ import annotations

from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from dripline.bootstrap import bootstrap
from dripline.cli_kafka import register as register_kafka_commands
from dripline.cli_projections import register as register_projection_commands
from dripline.cli_run import register as register_role_commands

app = typer.Typer(no_args_is_help=True, help="Dripline: an event-sourced drip-sequence engine.")
stream_app = typer.Typer(no_args_is_help=True, help="Inspect the event store.")
app.add_typer(stream_app, name="stream")
register_role_commands(app)
register_projection_commands(app)
register_kafka_commands(app)
console = Console()


@stream_app.command("show")
def stream_show(aggregate_id: str = typer.Argument(..., help="sequence, enrollment or contact "
                                                              "id")) -> None:
    """Print an aggregate's event history, oldest first."""
    try:
        originator = UUID(aggregate_id)
    except ValueError:
        console.print(f"[red]{aggregate_id!r} is not an id (expected a UUID)[/red]")
        raise typer.Exit(2) from None
    runtime = bootstrap()
    try:
        events = list(runtime.app.events.get(originator))
        if not events:
            console.print(f"[red]no events for {originator}[/red]")
            raise typer.Exit(1)
        table = Table(title=f"stream {originator}")
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


def _short(data: dict[str, object]) -> str:
    text = ", ".join(f"{k}={v}" for k, v in data.items())
    return text if len(text) <= 200 else text[:197] + "..."


def main() -> None:
    app()

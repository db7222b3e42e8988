"""The Kafka commands of the ``dripline`` CLI (DESIGN 3.4): ``consume``, ``relay`` and
``dlq list`` / ``dlq replay``. ``register(app)`` adds them to the main Typer app."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated

import typer
from prometheus_client import CollectorRegistry
from rich.console import Console
from rich.table import Table

from dripline.cli_errors import require_kafka
from dripline.logs import configure_logging
from dripline.metrics import serve_metrics
from dripline.settings import Settings

if TYPE_CHECKING:
    from consumers.settings import KafkaSettings

console = Console()


def _settings() -> tuple[KafkaSettings, str]:
    kafka = Settings()
    if not kafka.kafka_bootstrap_servers:
        console.print("[red]DRIPLINE_KAFKA_BOOTSTRAP_SERVERS is not set: there is no Kafka "
                      "to talk to (set it to host:port)[/red]")
        raise typer.Exit(2)
    require_kafka(kafka.kafka_bootstrap_servers)
    return kafka, kafka.database_url


def consume() -> None:
    """Apply CRM events from Kafka (crm.events) exactly once in effect; several may run."""
    from dripline.kafka_roles import run_intake
    kafka, url = _settings()
    settings = Settings()
    configure_logging(settings.log_format)
    registry = CollectorRegistry()
    serve_metrics(registry, settings.host, settings.metrics_port)
    asyncio.run(run_intake(kafka, url, metrics=registry))


def relay() -> None:
    """Publish message requests and domain events from the event store to Kafka."""
    from dripline.kafka_roles import run_relay
    kafka, url = _settings()
    configure_logging(Settings().log_format)
    asyncio.run(run_relay(kafka, url))


dlq_app = typer.Typer(no_args_is_help=True, help="Inspect and replay dead-lettered CRM events.")


@dlq_app.command("list")
def dlq_list(
    reason: Annotated[str | None, typer.Option(help="only this reason")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object a line")] = False,
) -> None:
    """Show the dead letters: where each came from and why it could not be applied."""
    from consumers.dlq import DETAIL, EVENT_ID, read_letters
    kafka, _ = _settings()
    letters = [x for x in asyncio.run(read_letters(kafka.bootstrap, kafka.topic_dead_letters))
               if reason is None or x.reason == reason]
    if as_json:
        for x in letters:
            print(json.dumps({"partition": x.partition, "offset": x.offset, "reason": x.reason,
                              "source": x.source, "headers": x.headers,
                              "value": (x.value or b"").decode(errors="replace")}))
        return
    table = Table(title=f"{kafka.topic_dead_letters}: {len(letters)} dead letters")
    for column in ("offset", "reason", "source", "event_id", "detail"):
        table.add_column(column)
    for x in letters:
        table.add_row(f"{x.partition}:{x.offset}", x.reason, x.source,
                      x.headers.get(EVENT_ID, ""), x.headers.get(DETAIL, "")[:120])
    console.print(table)


@dlq_app.command("replay")
def dlq_replay(
    offsets: Annotated[list[str] | None,
                       typer.Argument(help="dead letters as partition:offset")] = None,
    reason: Annotated[str | None, typer.Option(help="every dead letter of this reason")] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="every dead letter")] = False,
) -> None:
    """Put dead letters back on their source topic, to be applied again after a fix. An event
    applied meanwhile is recognised by its event_id and has no second effect."""
    from consumers.dlq import read_letters, replay_letters
    if not (offsets or reason or replay_all):
        console.print("[red]say which: partition:offset ..., --reason R, or --all[/red]")
        raise typer.Exit(2)
    kafka, _ = _settings()
    letters = asyncio.run(read_letters(kafka.bootstrap, kafka.topic_dead_letters))
    wanted = set(offsets or ())
    chosen = [x for x in letters if replay_all or f"{x.partition}:{x.offset}" in wanted
              or (reason is not None and x.reason == reason)]
    missing = wanted - {f"{x.partition}:{x.offset}" for x in letters}
    if missing:
        console.print(f"[red]no dead letter at {', '.join(sorted(missing))}[/red]")
        raise typer.Exit(1)
    count = asyncio.run(replay_letters(kafka.bootstrap, kafka.topic_dead_letters, chosen))
    console.print(f"replayed {count} dead letter(s)")


def register(app: typer.Typer) -> None:
    app.command("consume")(consume)
    app.command("relay")(relay)
    app.add_typer(dlq_app, name="dlq")

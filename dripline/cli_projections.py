"""``dripline project``, ``dripline replay`` and ``dripline projections status``."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer
from prometheus_client import CollectorRegistry
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from dripline.bootstrap import bootstrap
from dripline.logs import configure_logging
from dripline.metrics import ProjectionLagCollector, serve_metrics
from dripline.settings import Settings
from projections import replay as replays
from projections.generations import Generation
from projections.read_models import ReadModels

console = Console()
projections_app = typer.Typer(no_args_is_help=True, help="Inspect the read models.")


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} events/s" if speed else "- events/s", style="cyan")


def project(batch_size: int = typer.Option(2000, help="events per transaction"),
            poll_interval: float = typer.Option(0.5, help="seconds between polls (SQLite) "
                                                "or LISTEN timeouts (PostgreSQL)")) -> None:
    """Keep every read model up to date until stopped (Ctrl-C or SIGTERM)."""
    settings = Settings()
    configure_logging(settings.log_format)
    runtime = bootstrap(settings, catch_up_lookups=False)
    runtime.read_models.projector.batch_size = batch_size
    runner = runtime.read_models.runner(poll_interval=poll_interval)
    registry = CollectorRegistry()
    registry.register(ProjectionLagCollector(runtime.read_models.status))
    serve_metrics(registry, settings.host, settings.metrics_port)
    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runner.start()
    console.print(f"projecting {', '.join(runtime.read_models.names())}; Ctrl-C stops")
    try:
        done.wait()
    finally:
        runner.stop()
        runtime.close()


def replay(name: str | None = typer.Argument(None, help="read model to rebuild"),
           all_models: bool = typer.Option(False, "--all", help="rebuild every read model"),
           batch_size: int = typer.Option(5000, help="events per transaction")) -> None:
    """Rebuild read models from the start of the event log. The live tables keep serving
    until the rebuilt ones catch up; an interrupted replay resumes where it stopped."""
    runtime = bootstrap(catch_up_lookups=False)
    try:
        names = runtime.read_models.names()
        if all_models == (name is not None):
            console.print("[red]give one read model NAME or --all[/red]; known: "
                          + ", ".join(names))
            raise typer.Exit(2)
        if name is not None and name not in names:
            console.print(f"[red]no read model {name!r}[/red]; known: {', '.join(names)}")
            raise typer.Exit(2)
        runtime.read_models.projector.batch_size = batch_size
        _replay(runtime.read_models, names if all_models else [name or ""])
    finally:
        runtime.close()


def replay_all(read_models: ReadModels) -> None:
    """Rebuild every read model, with progress (``dripline upgrade`` ends with it)."""
    _replay(read_models, read_models.names())


def _replay(read_models: ReadModels, names: list[str]) -> None:
    """Rebuild ``names`` together, in one pass over the log, with a bar per model."""
    starts = {name: replays.start(read_models, name) for name in names}
    head = read_models.projector.head()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               RateColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        tasks = {name: progress.add_task(f"{name} (generation {g.generation})", total=head,
                                         completed=g.position)
                 for name, g in starts.items()}

        def on_batch(g: Generation, now_head: int) -> None:
            progress.update(tasks[g.name], completed=g.position,
                            total=max(now_head, g.position))

        finals = replays.rebuild_many(read_models, names, on_batch)
    for name in names:
        final = finals.get(name)
        state = "live" if final is not None and final.status == "live" else "unfinished"
        console.print(f"{name}: rebuilt to position {final.position if final else '?'} "
                      f"({state})")


@projections_app.command("status")
def status() -> None:
    """Each read model's position, the store's head and the lag between them."""
    runtime = bootstrap(catch_up_lookups=False)
    try:
        table = Table(title="read models")
        for column in ("name", "generation", "state", "position", "head", "lag"):
            table.add_column(column, justify="right" if column != "name" else "left")
        for s in runtime.read_models.status():
            state = "rebuilding" if s.status == "building" else s.status
            table.add_row(s.name, str(s.generation), state, str(s.position), str(s.head),
                          str(s.lag))
        console.print(table)
    finally:
        runtime.close()


def register(app: typer.Typer) -> None:
    app.command("project")(project)
    app.command("replay")(replay)
    app.add_typer(projections_app, name="projections")

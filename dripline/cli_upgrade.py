"""``dripline upgrade``: bring a store written by Dripline 0.1 up to date, once, then rebuild
every read model (``projections.storage.upgrade``). Run it with every other Dripline process
stopped; it is safe to run again, and on a current store it changes nothing."""

from __future__ import annotations

import typer
from rich.console import Console

from dripline.bootstrap import bootstrap
from dripline.cli_projections import replay_all
from projections.storage.upgrade import upgrade as upgrade_store

console = Console()


def upgrade() -> None:
    """Bring a store written by Dripline 0.1 up to date (ids, applied event ids, write-side
    indexes), then rebuild every read model. Stop every other Dripline process first."""
    runtime = bootstrap(catch_up_lookups=False, check_store=False)
    try:
        report = upgrade_store(runtime.app, say=console.print)
        if report.already_current:
            console.print("the store is current: nothing to upgrade")
            return
        replay_all(runtime.read_models)
        console.print("upgraded: every role can start on this store now")
    finally:
        runtime.close()


def register(app: typer.Typer) -> None:
    app.command("upgrade")(upgrade)

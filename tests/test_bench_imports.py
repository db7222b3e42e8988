"""The benchmarks are outside the type-checked packages (their peers need the bench extra),
so a refactor that moves a module must still leave every one of them importable."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bench

MODULES = sorted(m.name for m in pkgutil.walk_packages(bench.__path__, "bench."))


def test_every_benchmark_module_is_found() -> None:
    assert {"bench.drip_engine", "bench.intake", "bench.replay"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_the_benchmark_module_imports(name: str) -> None:
    importlib.import_module(name)

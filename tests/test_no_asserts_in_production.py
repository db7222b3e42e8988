"""``python -O`` drops ``assert`` statements: a check that production code relies on must be
an ``if`` that raises a named error, or it silently disappears."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("domain", "projections", "consumers", "api", "dripline")


def test_production_code_has_no_assert_statements() -> None:
    found = [f"{path.relative_to(ROOT)}:{node.lineno}"
             for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
             for node in ast.walk(ast.parse(path.read_text(), str(path)))
             if isinstance(node, ast.Assert)]
    assert not found, f"assert statements in production code: {', '.join(found)}"

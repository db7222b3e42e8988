"""Dependencies point inward: the domain imports none of the other packages, the read side
(``projections``, with the storage helpers) only the domain, the edges (``consumers`` for
Kafka, ``api`` for HTTP) the domain and the read side, and only ``dripline`` (the wiring, one
composition root per process) may import everything. Imports inside functions and under
``TYPE_CHECKING`` count too: a late import is still a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {
    "domain": frozenset[str](),
    "projections": frozenset({"domain"}),
    "consumers": frozenset({"domain", "projections"}),
    "api": frozenset({"domain", "projections"}),
}
OURS = frozenset({*ALLOWED, "dripline"})


def imported_modules(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """Every module ``path`` imports, as (line, dotted name), relative imports resolved."""
    package = list(path.relative_to(root).with_suffix("").parts)
    if package[-1] != "__init__":
        package = package[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            name = ".".join([*base, *([node.module] if node.module else [])])
            found.append((node.lineno, name))
    return sorted(found)


def violations(layer: str, root: Path = ROOT) -> list[str]:
    """``file:line imports module`` for each import of ``layer`` that points outward."""
    allowed = ALLOWED[layer] | {layer}
    found = []
    for path in sorted((root / layer).rglob("*.py")):
        for line, module in imported_modules(path, root):
            top = module.split(".")[0]
            if top in OURS and top not in allowed:
                found.append(f"{path.relative_to(root)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_below_it(layer: str) -> None:
    assert list((ROOT / layer).rglob("*.py")), f"no Python files under {layer}/"
    outward = violations(layer)
    allowed = ", ".join(sorted(ALLOWED[layer])) or "nothing of ours"
    assert not outward, f"{layer}/ may import {allowed}; found:\n" + "\n".join(outward)


def test_late_relative_and_type_only_imports_are_seen(tmp_path: Path) -> None:
    (tmp_path / "api" / "routes").mkdir(parents=True)
    (tmp_path / "api" / "routes" / "health.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from ..deps import RuntimeDep\n"
        "from projections.queries import Queries\n"
        "if TYPE_CHECKING:\n"
        "    from dripline.bootstrap import Runtime\n"
        "def ready() -> None:\n"
        "    import consumers.envelope\n")
    assert violations("api", tmp_path) == [
        "api/routes/health.py:5 imports dripline.bootstrap",
        "api/routes/health.py:7 imports consumers.envelope",
    ]

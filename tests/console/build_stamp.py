"""The console's build stamp (``api/static/console/build.json``, written by
``console/build.mjs``), recomputed the same way: a SHA-256 over every source file and one per
built file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "console"
BUILT = ROOT / "api" / "static" / "console"
STAMP = BUILT / "build.json"
AXE = ROOT / "tests" / "console" / "vendor" / "axe.min.js"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_files(folder: Path = SOURCES) -> list[str]:
    """Every file under console/ but the installed modules and dot files, as the build walks
    them: sorted by name within each folder, depth first, relative, with '/'."""
    found: list[str] = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name == "node_modules" or entry.name.startswith("."):
            continue
        if entry.is_dir():
            found += source_files(entry)
        else:
            found.append(entry.relative_to(SOURCES).as_posix())
    return found


def sources_digest() -> str:
    """``sha256sum`` lines over the sorted sources, hashed once more (as build.mjs does)."""
    lines = "".join(f"{_sha256(SOURCES / name)}  {name}\n" for name in source_files())
    return hashlib.sha256(lines.encode()).hexdigest()


def stamp() -> dict[str, Any]:
    recorded: dict[str, Any] = json.loads(STAMP.read_text())
    return recorded


def built_files() -> dict[str, str]:
    """What is in the build folder now (and the vendored axe-core), each with its hash."""
    files = [p for p in BUILT.rglob("*") if p.is_file() and p != STAMP] + [AXE]
    return {p.relative_to(ROOT).as_posix(): _sha256(p) for p in files if p.exists()}

"""What the deployment files are checked against: the settings model and the CLI."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer.main
from annotated_types import Ge, Le
from pydantic.fields import FieldInfo

from dripline.cli import app
from dripline.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCS = ROOT / "docs"
ROLES = ("api", "consume", "schedule", "project", "relay")
PREFIX = "DRIPLINE_"


def load_yaml(path: Path) -> list[Any]:
    """Every document of a YAML file. PyYAML is imported by name so that this module type
    checks whether or not its stubs are installed."""
    yaml = importlib.import_module("yaml")
    with path.open() as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc is not None]


def settings_fields() -> dict[str, FieldInfo]:
    """Each setting by its environment variable, e.g. ``DRIPLINE_DATABASE_URL``."""
    return {f"{PREFIX}{name.upper()}": field for name, field in Settings.model_fields.items()}


def shown_default(field: FieldInfo) -> str:
    return "unset" if field.default is None else str(field.default)


def allowed_range(field: FieldInfo) -> str:
    low = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
    high = next((m.le for m in field.metadata if isinstance(m, Le)), None)
    if low is None and high is None:
        return ""
    if high is None:
        return f"≥ {low}"
    return f"{low}-{high}" if low is not None else f"≤ {high}"


def settings_table() -> str:
    """The table of docs/configuration.md, generated from the model."""
    rows = ["| variable | default | range | meaning |", "|---|---|---|---|"]
    for env, field in settings_fields().items():
        rows.append(f"| `{env}` | `{shown_default(field)}` | {allowed_range(field)} | "
                    f"{field.description or ''} |")
    return "\n".join(rows)


class UnknownCommandError(Exception):
    pass


def command_path(args: Sequence[str]) -> str:
    """Parse ``args`` exactly as ``dripline ARGS`` would (without running anything) and
    return the command they name, e.g. ``replay`` or ``dlq replay``; raises for an unknown
    command, option or argument. (Typer carries its own copy of click, so the command
    objects are used by their interface, not by their classes.)"""
    command: Any = typer.main.get_command(app)
    remaining = list(args)
    names: list[str] = []
    while hasattr(command, "list_commands"):  # a group of commands
        if not remaining:
            raise UnknownCommandError(f"'dripline {' '.join(names)}' needs a subcommand")
        name = remaining.pop(0)
        found = command.get_command(command.context_class(command), name)
        if found is None:
            raise UnknownCommandError(f"'dripline' has no command {' '.join([*names, name])!r}")
        command, names = found, [*names, name]
    command.make_context(" ".join(names), remaining)
    return " ".join(names)


def top_level_commands() -> set[str]:
    group: Any = typer.main.get_command(app)
    return set(group.list_commands(group.context_class(group)))


if __name__ == "__main__":
    print(settings_table())

"""Every setting of ``dripline.settings.Settings`` is in deploy/env.example (with its real
default) and in docs/configuration.md, and nothing there is not a setting."""

from __future__ import annotations

import re

from tests.deploy.support import (
    DEPLOY,
    DOCS,
    settings_fields,
    settings_table,
    shown_default,
)

_ASSIGNMENT = re.compile(r"^(#\s*)?(DRIPLINE_\w+)=(.*)$")


def _env_example() -> dict[str, tuple[bool, str]]:
    """Each variable: (commented out, value)."""
    found: dict[str, tuple[bool, str]] = {}
    for line in (DEPLOY / "env.example").read_text().splitlines():
        if match := _ASSIGNMENT.match(line.strip()):
            name = match.group(2)
            assert name not in found, f"{name} appears twice in env.example"
            found[name] = (match.group(1) is not None, match.group(3))
    return found


def test_env_example_has_every_setting_and_no_other() -> None:
    documented, fields = _env_example(), settings_fields()
    assert set(documented) - set(fields) == set(), "not settings"
    assert set(fields) - set(documented) == set(), "settings missing from env.example"


def test_env_example_shows_the_real_defaults() -> None:
    fields = settings_fields()
    for name, (commented, value) in _env_example().items():
        default = fields[name].default
        if default is None:
            assert commented, f"{name} is unset by default: show it commented out"
        else:
            assert not commented, f"{name} has a default: show it uncommented"
            assert value == str(default), f"{name}: env.example says {value}, model {default}"


def test_env_example_explains_each_setting() -> None:
    lines = (DEPLOY / "env.example").read_text().splitlines()
    for i, line in enumerate(lines):
        if _ASSIGNMENT.match(line.strip()) and not line.startswith("# DRIPLINE_"):
            assert lines[i - 1].startswith("#") or _ASSIGNMENT.match(lines[i - 1]), line


def test_configuration_doc_carries_the_generated_table() -> None:
    text = (DOCS / "configuration.md").read_text()
    assert settings_table() in text, (
        "docs/configuration.md's table differs from the Settings model; regenerate it with "
        "`python -m tests.deploy.support`")
    for name, field in settings_fields().items():
        assert f"`{name}`" in text
        assert f"`{shown_default(field)}`" in text

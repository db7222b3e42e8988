"""Every setting of ``dripline.settings.Settings`` is in deploy/env.example (with its real
default) and in docs/configuration.md, and nothing there is not a setting; every
``DRIPLINE_*`` name the code mentions is a setting, or a test-only variable documented as
such."""

from __future__ import annotations

import re

from tests.deploy.support import (
    DEPLOY,
    DOCS,
    ROOT,
    settings_fields,
    settings_table,
    shown_default,
)

_ASSIGNMENT = re.compile(r"^(#\s*)?(DRIPLINE_\w+)=(.*)$")
_NAME = re.compile(r"\bDRIPLINE_[A-Z0-9]+(?:_[A-Z0-9]+)*\b")
# Where a variable may be read: the packages, the deployment files, the tests and benchmarks.
_SCANNED = ("domain", "projections", "consumers", "api", "dripline", "deploy", "tests", "bench")
_TEST_ONLY = "## Test-only variables"


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


def _names_in_code() -> dict[str, set[str]]:
    """Each ``DRIPLINE_*`` name the code mentions, and the files that mention it."""
    found: dict[str, set[str]] = {}
    for folder in _SCANNED:
        for path in (ROOT / folder).rglob("*"):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            for name in _NAME.findall(path.read_text(errors="ignore")):
                found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def _documented_test_only() -> set[str]:
    text = (DOCS / "configuration.md").read_text()
    assert _TEST_ONLY in text, f"docs/configuration.md has no '{_TEST_ONLY}' section"
    section = text.split(_TEST_ONLY, 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`(DRIPLINE_\w+)`", section))


def test_every_variable_the_code_reads_is_a_documented_setting() -> None:
    settings, test_only = set(settings_fields()), _documented_test_only()
    assert not settings & test_only, "a setting is not test-only"
    names = _names_in_code()
    unknown = {name: sorted(files) for name, files in names.items()
               if name not in settings | test_only}
    assert unknown == {}, "read but neither a setting nor a documented test-only variable"
    text = (DOCS / "configuration.md").read_text()
    assert [name for name in names if f"`{name}`" not in text] == []

"""The docs name real commands, real read models and files that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from projections.read_models import all_models
from tests.deploy.support import DOCS, ROLES, ROOT, command_path

PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
_SH_BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _dripline_lines(page: Path) -> list[str]:
    lines = []
    for block in _SH_BLOCK.findall(page.read_text()):
        lines += [line.strip() for line in block.splitlines()
                  if line.strip().startswith("dripline ")]
    return lines


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_dripline_command_shown_is_real(page: Path) -> None:
    for line in _dripline_lines(page):
        words = shlex.split(line, comments=True)
        if ">" in words:
            words = words[:words.index(">")]
        command_path(words[1:])  # raises for an unknown command or option


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_point_at_files(page: Path) -> None:
    for target in _LINK.findall(page.read_text()):
        if "://" in target:
            continue
        assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_the_runbook_names_every_read_model() -> None:
    runbooks = (DOCS / "runbooks.md").read_text()
    for model in all_models():
        assert f"`{model.name}`" in runbooks, model.name
    assert _dripline_lines(DOCS / "runbooks.md"), "the runbooks show no command"


def test_architecture_names_every_role_and_both_contracts() -> None:
    text = (DOCS / "architecture.md").read_text()
    for role in ROLES:
        assert f"`dripline {role}`" in text, role
    assert "(asyncapi.yaml)" in text
    assert "/openapi.json" in text
    assert "```mermaid" in text

"""deploy/Dockerfile: one image whose entrypoint is the ``dripline`` CLI, carrying every
package the project installs."""

from __future__ import annotations

import json
import re
import tomllib

from dripline.settings import Settings
from tests.deploy.support import DEPLOY, ROOT, command_path

DOCKERFILE = (DEPLOY / "Dockerfile").read_text()


def _instructions(name: str) -> list[str]:
    return re.findall(rf"^{name}\s+(.+)$", DOCKERFILE, re.MULTILINE)


def _copied_sources() -> set[str]:
    """What the build stage copies from the context (not from another stage)."""
    return {source for line in _instructions("COPY") if "--from" not in line
            for source in line.split()[:-1]}


def test_entrypoint_is_the_cli_and_the_default_command_is_serve() -> None:
    [entrypoint] = _instructions("ENTRYPOINT")
    [command] = _instructions("CMD")
    assert json.loads(entrypoint) == ["dripline"]
    assert command_path(json.loads(command)) == "serve"


def test_every_package_is_copied_in() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]
                ["include"]}
    assert packages | {"pyproject.toml", project["project"]["readme"]} <= _copied_sources()


def test_python_version_port_and_user() -> None:
    assert all(image.startswith("python:3.11") for image in
               (line.split()[0] for line in _instructions("FROM")))
    assert _instructions("EXPOSE") == [str(Settings.model_fields["port"].default)]
    [user] = _instructions("USER")
    assert user not in ("root", "0")
    assert "DRIPLINE_HOST=0.0.0.0" in DOCKERFILE  # reachable from outside its container


def test_the_build_context_lets_in_what_the_image_copies() -> None:
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert _copied_sources() <= allowed
    assert "*" in ignore  # everything else (.venv, databases, keys) stays out

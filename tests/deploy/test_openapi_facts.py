"""The OpenAPI document says true things about itself: its version is the installed
package's, and deleting a sequence promises only what it does."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import pytest

from api.app import create_app
from api.auth import ApiKeys
from dripline.bootstrap import bootstrap
from dripline.settings import Settings


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("openapi")
    runtime = bootstrap(Settings(database_url=f"sqlite:///{folder}/spec.db"))
    try:
        return create_app(runtime, api_keys=ApiKeys.parse("acme:a-key")).openapi()
    finally:
        runtime.close()


def test_the_version_is_the_packages(spec: dict[str, Any]) -> None:
    assert spec["info"]["version"] == version("dripline")


def test_deleting_a_sequence_says_that_only_drafts_go(spec: dict[str, Any]) -> None:
    """Anything but a draft answers 409 (tests/api/test_errors.py): it is never archived."""
    operation = spec["paths"]["/api/v1/automation/sequences/{sequence_id}"]["delete"]
    assert "409" in operation["responses"]
    assert "409" in operation["summary"]
    assert "archive" not in operation["summary"].lower()

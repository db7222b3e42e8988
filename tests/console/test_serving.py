"""How the API process serves the console: `/` redirects, deep links answer the page, the
assets are the built ones, every answer forbids anything not from the origin, and
`DRIPLINE_CONSOLE=off` serves none of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import ApiKeys
from dripline.bootstrap import bootstrap
from dripline.settings import Settings
from tests.console.build_stamp import BUILT

CSP = "default-src 'self'"


def _client(sqlite_url: str, console: Literal["on", "off"]) -> Iterator[TestClient]:
    runtime = bootstrap(Settings(database_url=sqlite_url, console=console))
    try:
        with TestClient(create_app(runtime, api_keys=ApiKeys.parse("acme:acme-key-0123456789")),
                        follow_redirects=False) as client:
            yield client
    finally:
        runtime.close()


@pytest.fixture
def client(sqlite_url: str) -> Iterator[TestClient]:
    yield from _client(sqlite_url, "on")


@pytest.fixture
def client_off(sqlite_url: str) -> Iterator[TestClient]:
    yield from _client(sqlite_url, "off")


def test_the_root_redirects_to_the_console(client: TestClient) -> None:
    for path in ("/", "/console"):
        answer = client.get(path)
        assert answer.status_code == 307
        assert answer.headers["location"] == "/console/"
        assert answer.headers["content-security-policy"] == CSP


@pytest.mark.parametrize("path", ["/console/", "/console/sequences",
                                  "/console/sequences/0b6a8f5e-1c1c-4c53-9a43-3f0c9d8a1b2c",
                                  "/console/enrollments/x/y"])
def test_every_deep_link_answers_the_page(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200
    assert answer.text == (BUILT / "index.html").read_text()
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["content-security-policy"] == CSP
    assert answer.headers["cache-control"] == "no-cache"


def test_the_assets_are_the_built_files(client: TestClient) -> None:
    for asset in (BUILT / "assets").iterdir():
        answer = client.get(f"/console/assets/{asset.name}")
        assert answer.status_code == 200
        assert answer.content == asset.read_bytes()
        assert answer.headers["content-security-policy"] == CSP
        assert "immutable" in answer.headers["cache-control"]
    kinds = {a.suffix: client.get(f"/console/assets/{a.name}").headers["content-type"]
             for a in (BUILT / "assets").iterdir()}
    assert kinds[".js"].startswith(("text/javascript", "application/javascript"))
    assert kinds[".css"].startswith("text/css")


@pytest.mark.parametrize("path", ["/console/assets/app-MISSING0.js", "/console/build.json",
                                  "/console/nothing.png", "/console/../api/app.py",
                                  "/console/%2e%2e/app.py", "/console/a%00b.js",
                                  "/console/" + "x" * 5000 + ".js"])
def test_a_missing_file_is_404_not_the_page(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert answer.text != (BUILT / "index.html").read_text()


def test_the_console_is_not_part_of_the_api_contract(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p == "/" or p.startswith("/console")]


def test_off_serves_neither_the_console_nor_the_redirect(client_off: TestClient) -> None:
    assert client_off.get("/").status_code == 404
    assert client_off.get("/console/").status_code == 404
    assert client_off.get("/console/sequences").status_code == 404
    assert client_off.get("/healthz").status_code == 200

"""The built console committed in the package is the build of the committed sources: a source,
the lockfile, the build script or a built file changed without `npm run build` fails here
(docs/console.md, "Building")."""

from __future__ import annotations

import re

from tests.console.build_stamp import BUILT, built_files, source_files, sources_digest, stamp

REBUILD = "the console build is stale: run `make console` (npm ci && npm run build in console/)"


def test_the_build_stamp_matches_the_sources() -> None:
    assert stamp()["sources"] == sources_digest(), REBUILD


def test_the_built_files_are_exactly_those_the_build_wrote() -> None:
    # An edited, added or left-over file (an old hashed asset) is a stale build as well.
    assert built_files() == stamp()["files"], REBUILD


def test_the_sources_include_what_decides_the_build() -> None:
    # The stamp would miss a change it does not cover: the lockfile pins esbuild, Preact
    # and TypeScript; the script and tsconfig decide the output.
    files = set(source_files())
    assert {"package.json", "package-lock.json", "build.mjs", "tsconfig.json",
            "index.html", "src/main.tsx"} <= files


def test_index_names_the_hashed_assets_and_nothing_inline() -> None:
    html = (BUILT / "index.html").read_text()
    assets = set(re.findall(r'(?:src|href)="/console/assets/([^"]+)"', html))
    assert {p.name for p in (BUILT / "assets").iterdir()} == assets
    assert all(re.fullmatch(r"app-[A-Z0-9]{8}\.(js|css)", name) for name in assets)
    # Under `default-src 'self'` an inline script or style would not run: there is none.
    assert "<style" not in html
    assert "style=" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.DOTALL)
    assert scripts
    assert all('src="/console/assets/' in attributes and not body.strip()
               for attributes, body in scripts)

"""The web console (docs/console.md): static files built from ``console/`` and shipped in
this package, served at ``/console/``; ``/`` redirects there. Deep links under ``/console/``
answer ``index.html`` (the console routes in the browser); a missing asset is a 404.

Every answer carries ``Content-Security-Policy: default-src 'self'``: the console loads
nothing from elsewhere, and no inline script or style runs. The console reads only the
public API, with the key the user typed."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse, Response

STATIC = Path(__file__).resolve().parent / "static" / "console"
PREFIX = "/console"
HEADERS = {
    "Content-Security-Policy": "default-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Assets are named by their content's hash: a new build has new names.
IMMUTABLE = "public, max-age=31536000, immutable"


def _file(relative: str) -> Path | None:
    """The built file at ``relative``, or None (also for anything outside the build)."""
    try:
        candidate = (STATIC / relative).resolve()
        if candidate.is_relative_to(STATIC) and candidate.is_file() \
                and candidate.name != "build.json":
            return candidate
    except (OSError, ValueError):  # a name no file system accepts (a NUL byte, too long)
        pass
    return None


def install(app: FastAPI) -> None:
    """Serve the console on ``app``; absent from the OpenAPI document (not an API)."""

    @app.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=307, headers=HEADERS)

    @app.get(PREFIX, include_in_schema=False)
    async def bare() -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=307, headers=HEADERS)

    @app.get(PREFIX + "/{path:path}", include_in_schema=False)
    async def console(path: str) -> Response:
        found = _file(path) if path else None
        if found is not None:
            cache = IMMUTABLE if path.startswith("assets/") else "no-cache"
            return FileResponse(found, headers={**HEADERS, "Cache-Control": cache})
        if path.startswith("assets/") or "." in path.rsplit("/", 1)[-1]:
            return Response("not found", status_code=404, media_type="text/plain",
                            headers=HEADERS)
        return FileResponse(STATIC / "index.html", headers={**HEADERS, "Cache-Control": "no-cache"})

"""A documentation page that needs no CDN: the operations listed from the OpenAPI document,
rendered on the server. The full contract is ``/openapi.json``."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

_METHODS = ("get", "post", "put", "delete", "patch")


def render(spec: dict[str, Any]) -> str:
    rows = []
    for path, item in spec.get("paths", {}).items():
        for method in _METHODS:
            if method in item:
                op = item[method]
                codes = ", ".join(sorted(op.get("responses", {})))
                rows.append(f"<tr><td><b>{method.upper()}</b></td><td><code>{escape(path)}"
                            f"</code></td><td>{escape(op.get('summary', ''))}</td>"
                            f"<td>{escape(codes)}</td></tr>")
    info = spec.get("info", {})
    return ("<!doctype html><html><head><meta charset='utf-8'><title>"
            f"{escape(info.get('title', 'API'))}</title><style>body{{font-family:sans-serif;"
            "margin:2em}td{padding:.2em .8em;border-bottom:1px solid #ddd}</style></head><body>"
            f"<h1>{escape(info.get('title', 'API'))} {escape(info.get('version', ''))}</h1>"
            f"<p>{escape(info.get('description', ''))}</p>"
            "<p>Machine-readable contract: <a href='/openapi.json'>/openapi.json</a></p>"
            "<table><tr><th>method</th><th>path</th><th>summary</th><th>statuses</th></tr>"
            + "".join(rows) + "</table></body></html>")


def install(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(render(app.openapi()))

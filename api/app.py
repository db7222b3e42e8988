"""The composition of the HTTP API: ``create_app(runtime)`` (DESIGN 3.3).

Routes are plain ``def`` functions because the core is synchronous: FastAPI runs them in its
thread pool, never on the event loop.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api import console, docs, error_handlers
from api.auth import ApiKeys
from api.deps import READ_WAIT_SECONDS
from api.limits import MAX_BODY_BYTES, BodyLimitMiddleware
from api.metrics import AggregateLoadCollector, Metrics, MetricsMiddleware
from api.metrics_stuck import StuckCollector
from api.positions import PositionHeaderMiddleware
from api.problems import PROBLEM_JSON
from api.routes import (
    contacts,
    conversions,
    enrollments,
    events,
    health,
    messages,
    sequence_daily,
    sequence_enrollments,
    sequence_experiments,
    sequence_lifecycle,
    sequence_revisions,
    sequences,
    steps,
    templates,
    tenant_settings,
    why,
)
from api.runtime import Runtime

DESCRIPTION = (
    "Drip sequences for CRMs: ordered message steps with delays, conditions and exit rules. "
    "Authenticate with `Authorization: Bearer <key>`; the key decides the tenant. Errors are "
    "`application/problem+json`. Writes accept `If-Match: <version>` and answer 412 when it "
    "is stale. Lists, stats and messages come from read models that may lag writes by moments."
)


def create_app(runtime: Runtime, *, api_keys: ApiKeys | None = None,
               max_body_bytes: int = MAX_BODY_BYTES,
               read_wait_seconds: float = READ_WAIT_SECONDS) -> FastAPI:
    """The API over ``runtime``. Keys come from ``api_keys``, else the runtime's settings;
    with none configured a random key is made for tenant "default", logged once and kept in
    ``app.state.generated_api_key`` (None when keys were configured)."""
    keys = api_keys or ApiKeys.from_text(runtime.settings.api_keys)
    app = FastAPI(title="Dripline", version=version("dripline"), description=DESCRIPTION,
                  docs_url=None, redoc_url=None)
    app.state.runtime = runtime
    app.state.read_wait_seconds = read_wait_seconds
    app.state.api_keys = keys
    app.state.generated_api_key = keys.generated_key
    app.state.metrics = Metrics()
    # Through ``app.state``: tests point one app at one runtime after another.
    app.state.metrics.registry.register(
        AggregateLoadCollector(lambda: app.state.runtime.app.core.load_stats))
    app.state.metrics.registry.register(StuckCollector(lambda: app.state.runtime))
    error_handlers.install(app)
    for module in (sequences, sequence_lifecycle, steps, sequence_revisions,
                   sequence_enrollments, sequence_experiments, sequence_daily, enrollments,
                   contacts, messages, conversions, templates, events, why, tenant_settings):
        app.include_router(module.router)
    app.include_router(health.router)
    docs.install(app)
    if runtime.settings.console == "on":
        console.install(app)
    # The last added runs first: metrics see every answer, 413s included.
    app.add_middleware(PositionHeaderMiddleware,
                       head=lambda: app.state.runtime.app.recorder.max_notification_id() or 0)
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _problem_media_types(get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _problem_media_types(spec: dict[str, Any]) -> dict[str, Any]:
    """Error answers are ``application/problem+json``; say so in the contract."""
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            for code, answer in operation.get("responses", {}).items():
                content = answer.get("content", {})
                if code[0] in "45" and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
    return spec

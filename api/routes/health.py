"""Liveness, readiness (the database answers) and Prometheus metrics; no auth."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from api.deps import RuntimeDep
from api.problems import ApiError, log, responses
from api.readiness import broker_problem, database_problem

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses=responses(503),
            summary="The event store's database answers (and Kafka's, when configured)")
def readyz(runtime: RuntimeDep) -> Health:
    problem = database_problem(runtime.settings.database_url)
    if problem is not None:
        log.warning("readiness check failed: %s", problem)
        raise ApiError(503, "the database is not reachable")
    broker = broker_problem(runtime.settings.kafka_bootstrap_servers)
    if broker is not None:
        log.warning("readiness check failed: %s", broker)
        raise ApiError(503, "the Kafka broker is not reachable")
    return Health(status="ready")


@router.get("/metrics", response_class=Response, summary="Prometheus metrics",
            responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
                             "description": "Prometheus text format"}})
async def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

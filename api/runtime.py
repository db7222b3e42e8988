"""What the HTTP API needs of the process that serves it: the core for commands, the read
models for queries, and the few settings it reads. The wiring (``dripline.bootstrap.Runtime``)
provides them; the API only describes them here, so that it depends on nothing above it."""

from __future__ import annotations

from typing import Protocol

from domain.application import DriplineApp
from projections.queries import Queries
from projections.read_models import ReadModels


class ApiSettings(Protocol):
    @property
    def database_url(self) -> str: ...  # /readyz asks this database

    @property
    def kafka_bootstrap_servers(self) -> str | None: ...  # and these brokers, when set

    @property
    def api_keys(self) -> str | None: ...  # ``tenant:key[,tenant:key…]``; unset: generated

    @property
    def stuck_after_seconds(self) -> int: ...  # overdue past this: stuck (CAPABILITIES §7)

    @property
    def console(self) -> str: ...  # "on": the web console at /console/; "off": none


class Runtime(Protocol):
    @property
    def settings(self) -> ApiSettings: ...

    @property
    def app(self) -> DriplineApp: ...

    @property
    def read_models(self) -> ReadModels: ...  # waited on by reads with ``?after=``

    @property
    def queries(self) -> Queries: ...

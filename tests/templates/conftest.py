"""The template tests use the API tests' fixtures: the application over a real runtime and
clients holding a tenant's key."""

from __future__ import annotations

from tests.api.conftest import acme, api, globex

__all__ = ["acme", "api", "globex"]

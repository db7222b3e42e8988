"""Tenant settings commands: read and change a tenant's time zone, frequency cap and
throttles (``domain.tenant_settings``). A tenant that never set any has none (None), which
reads as the defaults at version 0."""

from __future__ import annotations

from domain import caps
from domain import validation as v
from domain.app_base import Core
from domain.errors import ConcurrencyConflictError
from domain.tenant_settings import TenantSettings, settings_id
from domain.unit_of_work import UnitOfWork


class SettingsCommands:
    def __init__(self, core: Core) -> None:
        self.core = core

    def tenant_settings(self, tenant_id: str) -> TenantSettings | None:
        uow = self.core.reader()
        try:
            return uow.get(settings_id(v.tenant_id(tenant_id)), TenantSettings)
        finally:
            uow.discard()

    def update_tenant_settings(self, tenant_id: str, data: object,
                               expected_version: int | None = None) -> TenantSettings:
        """Replace the fields given (``caps.validated``), at ``expected_version`` if given
        (0: none set yet)."""
        changes = caps.validated(data)
        tenant = v.tenant_id(tenant_id)

        def decide(uow: UnitOfWork) -> TenantSettings:
            now = self.core.clock()
            current = uow.get(settings_id(tenant), TenantSettings)
            if current is None:
                if expected_version not in (None, 0):
                    raise ConcurrencyConflictError(
                        f"the settings of tenant {tenant} are at version 0, not "
                        f"{expected_version}: reload and retry")
                current = TenantSettings.start(tenant, now)
                uow.add(current)
            else:
                self.core.check_version(current, expected_version)
            current.update(changes, now)
            return current

        return self.core.decide(decide)[0]

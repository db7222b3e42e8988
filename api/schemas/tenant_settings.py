"""Tenant settings: time zone, frequency cap and throttles (CAPABILITIES §4)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import RequestBody
from domain.tenant_settings import TenantSettings

_WINDOW = ("'rolling_24h', 'calendar_day' (since the contact's local midnight) or "
           '{"rolling_hours": 1-720}')


class CapRuleIn(RequestBody):
    channel: str | None = Field(default=None, description="A channel, or null for all")
    max_messages: Any = Field(description="1-100,000 counted messages per window")
    window: Any = Field(description=_WINDOW)


class FrequencyCapIn(RequestBody):
    rules: list[CapRuleIn] = Field(default_factory=list, description="At most 10; every "
                                   "rule must allow a send (the most restrictive wins)")
    on_cap: Any = Field(default="defer", description="'defer' (to when every rule frees, "
                        "at most max_defer_hours after the step's due time, then skip) or "
                        "'skip'")
    max_defer_hours: Any = Field(default=72, description="1-720")


class ThrottleIn(RequestBody):
    per_minute: Any = Field(description="1-100,000 message requests per UTC minute")


class TenantSettingsIn(RequestBody):
    """The fields given replace the stored ones; null removes a cap or the throttles."""

    timezone: str | None = Field(default=None, description="IANA zone for calendar days of "
                                 "contacts without a zone")
    frequency_cap: FrequencyCapIn | None = None
    throttle: dict[str, ThrottleIn] | None = Field(default=None,
                                                   description="Per channel, e.g. email")


class TenantSettingsOut(BaseModel):
    timezone: str | None
    frequency_cap: dict[str, Any] | None
    throttle: dict[str, Any] | None
    version: int = Field(description="Send it back in If-Match (0: never set)")

    @classmethod
    def of(cls, settings: TenantSettings | None) -> TenantSettingsOut:
        if settings is None:
            return cls(timezone=None, frequency_cap=None, throttle=None, version=0)
        return cls(timezone=settings.timezone, frequency_cap=settings.frequency_cap,
                   throttle=settings.throttle, version=settings.version)

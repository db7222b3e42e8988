"""Every setting, from ``DRIPLINE_*`` environment variables (DESIGN 3.4)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from consumers.settings import KafkaSettings


class Settings(KafkaSettings):
    """One typed settings object for every process; the Kafka fields (bootstrap servers,
    topics, consumer group, batch sizes) come from ``KafkaSettings``."""

    model_config = SettingsConfigDict(env_prefix="DRIPLINE_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./dripline.db",
        description="sqlite:///path/file.db or postgresql://user@host:port/db",
    )
    postgres_pool_size: int = Field(
        default=2, ge=1,
        description="PostgreSQL connections each process keeps open for its event store")
    postgres_max_overflow: int = Field(
        default=8, ge=0,
        description="extra event-store connections a process may open in bursts")
    api_keys: str | None = Field(
        default=None,
        description="tenant:key[,tenant:key...]; unset = a generated key (serve, and api on "
                    "SQLite); api on PostgreSQL refuses to start without")
    host: str = Field(default="127.0.0.1", description="HTTP bind address")
    port: int = Field(default=8000, ge=1, le=65535, description="HTTP port")
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535,
        description="Prometheus metrics port of the worker roles (schedule, project, consume); "
                    "unset = none (serve and api show metrics at /metrics)")
    reply_attribution_days: int = Field(
        default=7, ge=1, le=90,
        description="a reply or unsubscribe naming no message is attributed to the contact's "
                    "latest message requested within this many days before it")
    stuck_after_seconds: int = Field(
        default=300, ge=1, le=10_000_000,
        description="an active enrollment overdue by more than this many seconds is stuck "
                    "(the why view, dripline enrollments stuck, the overdue metrics)")
    log_format: Literal["text", "json"] = Field(
        default="text", description="text, or json: one object per line with ids as fields")
    console: Literal["on", "off"] = Field(
        default="on",
        description="on: the API process serves the web console at /console/ (and / redirects "
                    "there); off: neither")

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError(
                "must start with sqlite:/// (e.g. sqlite:///./dripline.db) or postgresql:// "
                "(e.g. postgresql://user@127.0.0.1:5432/dripline)"
            )
        return value

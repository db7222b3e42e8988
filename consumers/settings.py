"""The Kafka edge's settings, from ``DRIPLINE_*`` variables (DESIGN 3.2, 3.4).

Kept here until they are merged into ``dripline.settings.Settings``; the field names are the
ones proposed for it, so the variables stay the same after the move.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DRIPLINE_", extra="ignore")

    kafka_bootstrap_servers: str | None = Field(
        default=None, description="host:port[,...]; unset = no Kafka")
    kafka_group_id: str = Field(default="dripline-intake",
                                description="consumer group of the intake processes")
    topic_crm_events: str = Field(default="crm.events", description="CRM events in")
    topic_messages: str = Field(default="dripline.messages", description="message requests out")
    topic_domain_events: str = Field(default="dripline.events", description="domain events out")
    topic_dead_letters: str = Field(default="crm.events.dlq", description="dead letters")
    kafka_tenants: str | None = Field(
        default=None, description="tenant[,tenant...] accepted from Kafka; unset = any tenant")
    intake_batch_size: int = Field(default=5000, ge=1, le=10_000,
                                   description="records fetched and applied per transaction "
                                               "(one transaction per partition of the fetch)")
    intake_max_attempts: int = Field(default=4, ge=1, le=20,
                                     description="tries of an event whose handling fails")
    kafka_session_timeout_ms: int = Field(
        default=10_000, ge=1000, description="how soon a silent intake loses its partitions")
    relay_batch_size: int = Field(default=500, ge=1, le=10_000,
                                  description="notifications published per confirmed batch")

    @property
    def bootstrap(self) -> str:
        if not self.kafka_bootstrap_servers:
            raise ValueError("DRIPLINE_KAFKA_BOOTSTRAP_SERVERS is not set; Kafka is off")
        return self.kafka_bootstrap_servers

    @property
    def tenants(self) -> frozenset[str] | None:
        if not self.kafka_tenants:
            return None
        return frozenset(t.strip() for t in self.kafka_tenants.split(",") if t.strip())

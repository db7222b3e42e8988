"""deploy/compose.yml: PostgreSQL 15, Kafka in KRaft mode, and every role as a service whose
command is a real ``dripline`` command, started only once what it needs is healthy."""

from __future__ import annotations

import re
from typing import Any

import pytest

from dripline.settings import Settings
from tests.deploy.support import DEPLOY, DOCS, ROLES, command_path, load_yaml, settings_fields


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    [document] = load_yaml(DEPLOY / "compose.yml")
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def test_every_role_is_a_service_running_its_own_command(
        services: dict[str, dict[str, Any]]) -> None:
    for role in ROLES:
        assert role in services, f"compose has no service for the {role} role"
        assert command_path(services[role]["command"]) == role


def test_every_dripline_command_in_compose_is_a_real_one(
        services: dict[str, dict[str, Any]]) -> None:
    dripline = {name: s for name, s in services.items() if "build" in s}
    assert set(ROLES) <= set(dripline)
    for name, service in dripline.items():
        command_path(service["command"])  # raises for an unknown command or option
        assert "entrypoint" not in service, f"{name} must run the image's dripline entrypoint"
    assert services["replay"]["command"] == ["replay", "--all"]


def test_infrastructure_is_postgres_15_and_a_kraft_broker(
        services: dict[str, dict[str, Any]]) -> None:
    assert services["postgres"]["image"].startswith("postgres:15")
    kafka = services["kafka"]["environment"]
    assert set(kafka["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "KAFKA_CONTROLLER_QUORUM_VOTERS" in kafka
    assert not any("zookeeper" in name for name in services)
    assert not any(key.startswith("KAFKA_ZOOKEEPER") for key in kafka)


def test_roles_start_after_what_they_need_is_healthy(
        services: dict[str, dict[str, Any]]) -> None:
    for role in ROLES:
        needs = services[role]["depends_on"]
        assert {"postgres", "kafka"} <= set(needs), role
        for name, condition in needs.items():
            wanted = condition["condition"]
            assert wanted in ("service_healthy", "service_completed_successfully"), role
            if wanted == "service_healthy":
                assert "healthcheck" in services[name], f"{role} waits on {name}'s health"
        if role != "api":  # the api creates the tables before the others start
            assert needs["api"]["condition"] == "service_healthy"
    api_check = " ".join(services["api"]["healthcheck"]["test"])
    assert "/readyz" in api_check


def test_the_settings_given_are_real_settings(services: dict[str, dict[str, Any]]) -> None:
    known = settings_fields()
    for role in ROLES:
        environment = services[role]["environment"]
        unknown = {key for key in environment if key.startswith("DRIPLINE_")} - set(known)
        assert not unknown, f"{role}: not settings: {sorted(unknown)}"
        assert environment["DRIPLINE_DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:5432/" in environment["DRIPLINE_DATABASE_URL"]
        advertised = services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
        assert f"PLAINTEXT://{environment['DRIPLINE_KAFKA_BOOTSTRAP_SERVERS']}" in advertised


def test_only_the_roles_that_serve_http_are_given_api_keys(
        services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if "build" not in service:
            continue
        serves_http = command_path(service["command"]) in ("api", "serve")
        assert ("DRIPLINE_API_KEYS" in service["environment"]) == serves_http, name
    # Never a fixed key: the operator's, or none (and the api says it needs one).
    assert services["api"]["environment"]["DRIPLINE_API_KEYS"] == "${DRIPLINE_API_KEYS:-}"


def test_no_command_needs_a_variable_set() -> None:
    """Compose interpolates the whole file before it picks the services a command runs, so
    one required variable (``${NAME:?...}``) would stop every command, ops ones included."""
    text = (DEPLOY / "compose.yml").read_text()
    assert re.findall(r"\$\{\w+:?\?", text) == []


def test_the_runbooks_compose_commands_run_without_api_keys(
        services: dict[str, dict[str, Any]]) -> None:
    runs = re.findall(r"docker compose -f deploy/compose\.yml(?: --profile \S+)? run --rm "
                      r"([\w-]+)([^`\n]*)", (DOCS / "runbooks.md").read_text())
    assert runs, "the runbooks show no compose command"
    for service, args in runs:
        assert service in services, service
        assert "DRIPLINE_API_KEYS" not in services[service]["environment"], service
        words = args.split()
        if words and not words[0].startswith("<"):
            command_path(words)  # raises for an unknown command or option


def test_the_topics_created_are_the_default_topics(services: dict[str, dict[str, Any]]) -> None:
    script = " ".join(services["topics"]["command"])
    listed = re.search(r"for topic in ([^;]+);", script)
    assert listed is not None
    defaults = Settings.model_fields
    assert set(listed.group(1).split()) == {
        defaults[name].default for name in ("topic_crm_events", "topic_messages",
                                            "topic_domain_events", "topic_dead_letters")}


def test_the_api_is_published_on_loopback_only(services: dict[str, dict[str, Any]]) -> None:
    port = Settings.model_fields["port"].default
    assert services["api"]["ports"] == [f"127.0.0.1:{port}:{port}"]

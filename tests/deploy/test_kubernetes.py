"""deploy/k8s: a Deployment per role with resources, probes on the api, a Service, a
ConfigMap and a Secret of real settings, and a Job for ``dripline replay --all``."""

from __future__ import annotations

import os
from typing import Any

import pytest

from api.auth import ApiKeys
from dripline.settings import Settings
from projections.storage.urls import is_postgres
from tests.deploy.support import (
    DEPLOY,
    ROLES,
    ROOT,
    command_path,
    load_yaml,
    settings_fields,
)

K8S = DEPLOY / "k8s"


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            found += load_yaml(path)
    return found


def _of_kind(manifests: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    [container] = workload["spec"]["template"]["spec"]["containers"]
    assert isinstance(container, dict)
    return container


def test_a_deployment_per_role_runs_that_role(manifests: list[dict[str, Any]]) -> None:
    deployments = _of_kind(manifests, "Deployment")
    roles = {command_path(_container(d)["args"]): name for name, d in deployments.items()}
    assert set(roles) == set(ROLES)
    for deployment in deployments.values():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_every_container_has_requests_and_limits(manifests: list[dict[str, Any]]) -> None:
    workloads = [*_of_kind(manifests, "Deployment").values(),
                 *_of_kind(manifests, "Job").values()]
    for workload in workloads:
        resources = _container(workload)["resources"]
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources[kind]), workload["metadata"]["name"]


def test_the_api_is_probed_and_served(manifests: list[dict[str, Any]]) -> None:
    [api] = [d for d in _of_kind(manifests, "Deployment").values()
             if _container(d)["args"] == ["api"]]
    container = _container(api)
    [port] = container["ports"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["port"] in (port["name"], port["containerPort"])
    [service] = _of_kind(manifests, "Service").values()
    pod_labels = api["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"][0]["targetPort"] in (port["name"], port["containerPort"])


def test_settings_come_from_a_configmap_and_a_secret_of_real_settings(
        manifests: list[dict[str, Any]]) -> None:
    known = set(settings_fields())
    configmaps, secrets = _of_kind(manifests, "ConfigMap"), _of_kind(manifests, "Secret")
    assert len(configmaps) == 1
    assert len(secrets) == 1
    [config], [secret] = configmaps.values(), secrets.values()
    assert set(config["data"]) <= known
    assert set(secret["stringData"]) <= known
    assert {"DRIPLINE_DATABASE_URL", "DRIPLINE_API_KEYS"} <= set(secret["stringData"])
    assert not set(config["data"]) & set(secret["stringData"])
    for name, value in secret["stringData"].items():
        assert "REPLACE" in value, f"{name}: ship a placeholder marked to replace, no secret"
    workloads = [*_of_kind(manifests, "Deployment").values(),
                 *_of_kind(manifests, "Job").values()]
    for workload in workloads:
        sources = _container(workload)["envFrom"]
        assert {"configMapRef": {"name": config["metadata"]["name"]}} in sources
        assert {"secretRef": {"name": secret["metadata"]["name"]}} in sources


def _environment(container: dict[str, Any], manifests: list[dict[str, Any]],
                 ) -> dict[str, tuple[str, str]]:
    """What a container's environment holds: each variable's value and the kind of object
    it came from (``ConfigMap``, ``Secret`` or ``Pod`` for a literal)."""
    data = {(m["kind"], m["metadata"]["name"]): {**m.get("data", {}), **m.get("stringData", {})}
            for m in manifests if m["kind"] in ("ConfigMap", "Secret")}
    found: dict[str, tuple[str, str]] = {}
    for source in container.get("envFrom", []):
        kind, ref = (("ConfigMap", source["configMapRef"]) if "configMapRef" in source
                     else ("Secret", source["secretRef"]))
        found |= {k: (v, kind) for k, v in data[(kind, ref["name"])].items()}
    for variable in container.get("env", []):
        if "value" in variable:
            found[variable["name"]] = (variable["value"], "Pod")
        elif ref := variable.get("valueFrom", {}).get("secretKeyRef"):
            found[variable["name"]] = (data[("Secret", ref["name"])][ref["key"]], "Secret")
    return found


def test_the_api_pods_start_with_the_shipped_secret(
        manifests: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL ``dripline api`` refuses to start without keys: the Secret gives it a
    well-formed tenant:key value (a placeholder, until replaced)."""
    [api] = [d for d in _of_kind(manifests, "Deployment").values()
             if command_path(_container(d)["args"]) == "api"]
    environment = _environment(_container(api), manifests)
    keys, source = environment["DRIPLINE_API_KEYS"]
    assert source == "Secret"
    assert ApiKeys.parse(keys).by_key, "DRIPLINE_API_KEYS names no tenant:key pair"
    for name in [n for n in settings_fields() if n in os.environ]:
        monkeypatch.delenv(name)
    for name, (value, _) in environment.items():
        monkeypatch.setenv(name, value)
    settings = Settings()  # raises for a setting the pod could not start with
    assert is_postgres(settings.database_url)
    assert settings.api_keys == keys


def test_the_scheduler_manifest_says_how_copies_share_the_work() -> None:
    """Copies claim their batches with advisory locks (consumers/claims.py)."""
    comment = (K8S / "schedule.yaml").read_text().split("apiVersion", 1)[0]
    assert "advisory lock" in comment
    assert "advisory lock" in (ROOT / "consumers" / "claims.py").read_text()
    assert "shuffle" not in comment


def test_a_job_rebuilds_every_read_model(manifests: list[dict[str, Any]]) -> None:
    [job] = _of_kind(manifests, "Job").values()
    args = _container(job)["args"]
    assert command_path(args) == "replay"
    assert args == ["replay", "--all"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] in ("OnFailure", "Never")


def test_one_image_for_everything(manifests: list[dict[str, Any]]) -> None:
    workloads = [*_of_kind(manifests, "Deployment").values(),
                 *_of_kind(manifests, "Job").values()]
    assert len({_container(w)["image"] for w in workloads}) == 1


def test_kustomization_lists_every_long_running_manifest() -> None:
    [kustomization] = load_yaml(K8S / "kustomization.yaml")
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    # The replay Job runs on demand only: applying it with the rest would rebuild the read
    # models at every deploy.
    assert listed == on_disk - {"replay-job.yaml"}

"""The compose stack, checked without a Docker engine.

1. The file validates against the compose-spec JSON Schema (vendored from docker-compose 1.29
   at deploy/compose/compose-spec.schema.json).
2. Semantic checks: every reference resolves, every long-running service has a health check,
   no literal secret, the Kafka and MirrorMaker settings the design requires.
3. `docker compose config` / `docker-compose config` on a copy with generated secrets, when a
   compose binary is installed (Debian's docker-compose is, by scripts/install-system-deps.sh).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from vitrina.security.credentials import build_material, write_material
from vitrina.services import SERVICES
from vitrina.settings import PROFILES_DIR, load_settings
from vitrina.topics import declared_topics

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "deploy" / "compose"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
OPERATOR_SECRETS = {"telegram-bot-token"}  # supplied by the operator, not generated


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]  # type: ignore[no-any-return]


def _one_shot(svc: dict[str, Any]) -> bool:
    return svc.get("restart") == "no"


def test_validates_against_the_compose_spec_schema(compose: dict[str, Any]) -> None:
    schema = json.loads((COMPOSE_DIR / "compose-spec.schema.json").read_text())
    validator = jsonschema_rs.validator_for(schema)
    errors = [
        f"{'/'.join(map(str, e.instance_path))}: {e.message}"
        for e in validator.iter_errors(compose)
    ]
    assert errors == []


def test_schema_check_catches_a_broken_file(compose: dict[str, Any]) -> None:
    schema = json.loads((COMPOSE_DIR / "compose-spec.schema.json").read_text())
    broken = json.loads(json.dumps(compose))
    broken["services"]["filter"]["healthcheck"]["retries"] = "many"
    broken["services"]["filter"]["depends_on"] = 42
    assert not jsonschema_rs.validator_for(schema).is_valid(broken)


def test_every_reference_resolves(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    volumes = set(compose["volumes"])
    secrets = set(compose["secrets"])
    for name, svc in services.items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            if cond["condition"] == "service_completed_successfully":
                assert _one_shot(services[dep]), f"{name} waits for {dep} to exit"
            else:
                assert cond["condition"] == "service_healthy", (name, dep)
                assert "test" in services[dep].get("healthcheck", {}), (name, dep)
        for secret in svc.get("secrets", []):
            source = secret["source"] if isinstance(secret, dict) else secret
            assert source in secrets, f"{name} uses undeclared secret {source}"
        for mount in svc.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE_DIR / source).exists(), f"{name}: {source} does not exist"
            else:
                assert source in volumes, f"{name}: undeclared volume {source}"
    builds = {name: svc["build"] for name, svc in services.items() if "build" in svc}
    assert {b.get("dockerfile") for b in builds.values()} >= {"deploy/docker/Dockerfile"}
    for name, build in builds.items():
        context = (COMPOSE_DIR / build["context"]).resolve()
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), f"{name}: no {dockerfile}"
        for source in _copied_sources(dockerfile.read_text()):
            assert (context / source).exists(), f"{name}: {dockerfile} copies missing {source}"


def _copied_sources(dockerfile: str) -> list[str]:
    """The build-context paths a Dockerfile's COPY instructions read (not `--from` stages)."""
    sources = []
    for line in dockerfile.splitlines():
        words = line.split()
        if not words or words[0].upper() != "COPY":
            continue
        args = [w for w in words[1:] if not w.startswith("--")]
        if any(w.startswith("--from") for w in words[1:]) or args[0].startswith("["):
            continue
        sources += args[:-1]
    return sources


def test_the_kafka_image_copies_the_native_clusters_exporter_rules(
    services: dict[str, dict[str, Any]],
) -> None:
    """One rules file for both deployments: the compose image and `vitrina cluster up`'s
    nodes export the same metrics (two copies had to be edited alike before)."""
    node = next(
        svc for svc in services.values() if svc.get("image", "").startswith("vitrina-kafka")
    )
    context = (COMPOSE_DIR / node["build"]["context"]).resolve()
    dockerfile = (context / node["build"].get("dockerfile", "Dockerfile")).read_text()
    rules = [s for s in _copied_sources(dockerfile) if s.endswith("jmx-exporter.yml")]
    assert [(context / s).resolve() for s in rules] == [
        ROOT / "deploy" / "kafka" / "jmx-exporter.yml"
    ]
    assert len(list((ROOT / "deploy").rglob("jmx-exporter.yml"))) == 1


def test_long_running_services_have_health_checks(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        if _one_shot(svc):
            continue
        check = svc.get("healthcheck", {})
        assert not check.get("disable") and check.get("test"), f"{name} has no health check"


def test_every_secret_is_a_generated_file_and_none_is_inline(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    generated = {
        f.name
        for f in build_material(
            brokers=3, mirror_brokers=3, now=datetime.now(UTC), password=lambda: "x"
        )
    }
    for name, spec in compose["secrets"].items():
        assert set(spec) == {"file"}, f"secret {name} must come from a file"
        assert spec["file"] == f"./secrets/{name}"
        assert name in generated | OPERATOR_SECRETS, f"nothing generates secret {name}"
    secretish = re.compile(r"PASSWORD|TOKEN|SECRET|_KEY$|CREDENTIAL", re.IGNORECASE)
    for name, svc in services.items():
        env = svc.get("environment") or {}
        for key, value in env.items():
            if secretish.search(key):
                assert key.endswith("_FILE") or str(value).startswith("/run/secrets/"), (
                    f"{name}: {key} looks like an inline secret"
                )
    text = COMPOSE_FILE.read_text()
    assert not re.search(r"password\s*=\s*\"?[^\"$/\s]", text, re.IGNORECASE)
    assert "/deploy/compose/secrets/" in (ROOT / ".gitignore").read_text()


def test_every_vitrina_service_runs_from_one_image_as_its_principal(
    services: dict[str, dict[str, Any]],
) -> None:
    for spec in SERVICES:
        svc = services[spec.name]
        assert svc["command"] == ["vitrina", "run", spec.name]
        assert svc["image"] == "vitrina:latest"
        assert svc["environment"]["VITRINA__PROFILE"] == "distributed"
        targets = {s["target"] for s in svc["secrets"]}
        assert f"/run/secrets/vitrina/{spec.name}.password" in targets
        assert "/run/secrets/vitrina/ca.pem" in targets
        port = getattr(load_settings().ports, spec.port_field)
        assert f"localhost:{port}/metrics" in svc["healthcheck"]["test"][-1]


def test_distributed_profile_matches_the_stack(services: dict[str, dict[str, Any]]) -> None:
    profile = yaml.safe_load((PROFILES_DIR / "distributed.yaml").read_text())
    kafka = profile["kafka"]
    assert kafka["secrets_dir"] == "/run/secrets/vitrina"
    assert kafka["ssl_ca_location"] == "/run/secrets/vitrina/ca.pem"
    for address in kafka["bootstrap_servers"].split(","):
        host, port = address.split(":")
        assert host in services and port == "9093"
    assert kafka["replication_factor"] == 3 and kafka["min_insync_replicas"] == 2


def test_kafka_nodes_are_secured_and_replicated(services: dict[str, dict[str, Any]]) -> None:
    script = (COMPOSE_DIR / "kafka" / "start-kafka.sh").read_text()
    for line in [
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found=false",
        "default.replication.factor=3",
        "min.insync.replicas=2",
        "CLIENT:SASL_SSL",
        "sasl.enabled.mechanisms=SCRAM-SHA-512",
        "ssl.keystore.type=PEM",
        "auto.create.topics.enable=false",
        "kafka-storage-scram.args",
        "javaagent:/opt/jmx/jmx_prometheus_javaagent.jar",
    ]:
        assert line in script, line
    nodes = [n for n in services if re.fullmatch(r"kafka(-mirror)?-\d", n)]
    assert len(nodes) == 6
    for n in nodes:
        env = services[n]["environment"]
        assert env["NODE_HOST"] == n and len(env["QUORUM_VOTERS"].split(",")) == 3
        # Kafka cluster ids are 16 bytes in base64url: 22 characters.
        default_id = re.fullmatch(r"\$\{\w+:-([A-Za-z0-9_-]+)\}", env["CLUSTER_ID"])
        assert default_id and len(default_id.group(1)) == 22, env["CLUSTER_ID"]


def test_mirrormaker_keeps_names_and_covers_every_declared_topic() -> None:
    props = dict(
        line.split("=", 1)
        for line in (COMPOSE_DIR / "mirrormaker" / "mm2.properties").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert props["replication.policy.class"].endswith("IdentityReplicationPolicy")
    # An aborted transaction's records stay on the primary (operator review).
    assert props["primary->mirror.source.consumer.isolation.level"] == "read_committed"
    topics = set(props["primary->mirror.topics"].split("|"))
    assert topics == {s.name for s in declared_topics(load_settings())}
    assert "${dir:/run/secrets/vitrina:mirror.password}" in props["primary.sasl.jaas.config"]


def test_schema_registration_covers_every_schema() -> None:
    import importlib.util

    path = COMPOSE_DIR / "schema-registry" / "register_schemas.py"
    spec = importlib.util.spec_from_file_location("register_schemas", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    subjects = module.subjects()
    assert subjects["shop-products-value"].name == "product.json"
    assert subjects["orders-value"].name == "order.json"
    schema_files = {p.name for p in module.SCHEMAS.glob("*.json")}
    assert {p.name for p in subjects.values()} == schema_files


def _compose_binary() -> list[str] | None:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run(
            [docker, "compose", "version"], capture_output=True, check=False
        ).returncode
        == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_config_accepts_it(tmp_path: Path) -> None:
    binary = _compose_binary()
    if binary is None:
        pytest.skip("no compose binary (apt-get install docker-compose); schema checks ran")
    stack = tmp_path / "deploy" / "compose"
    shutil.copytree(COMPOSE_DIR, stack)
    for other in ("prometheus", "grafana", "alertmanager"):
        shutil.copytree(ROOT / "deploy" / other, tmp_path / "deploy" / other)
    write_material(
        stack / "secrets", build_material(brokers=3, mirror_brokers=3, now=datetime.now(UTC))
    )
    (stack / "secrets" / "telegram-bot-token").write_text("placeholder")
    result = subprocess.run(
        [*binary, "-f", str(stack / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        cwd=stack,
    )
    assert result.returncode == 0, result.stderr

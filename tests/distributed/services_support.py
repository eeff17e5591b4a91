"""Helpers for the service-level tests on the secured cluster (`test_services_*.py`).

Every test works on its own topic names (a suffix) and grants the ACL plan for those names
additively (`grant`): `vitrina acl apply` would remove the plan of other tests' names.
Services run as real `vitrina` processes with the profile of the platform on the cluster:
no `sasl_username`, so each one connects as its own principal with its own password file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from tests.distributed.conftest import SecuredCluster

from vitrina.settings import Settings, load_settings

VITRINA = [sys.executable, "-m", "vitrina"]


def topic_names(suffix: str) -> dict[str, str]:
    return {role: f"{default}-{suffix}" for role, default in Settings().topics.model_dump().items()}


def new_suffix() -> str:
    return uuid.uuid4().hex[:8]


def suffix_of(settings: Settings) -> str:
    return settings.topics.orders.rsplit("-", 1)[1]


def kafka_overrides(cluster: SecuredCluster, secrets: Path | None = None) -> dict[str, Any]:
    """The platform profile on the cluster (as in profiles/cluster.yaml), minus its ports."""
    secrets = secrets or cluster.secrets
    return {
        "bootstrap_servers": cluster.bootstrap,
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "secrets_dir": secrets,
        "ssl_ca_location": cluster.secrets / "ca.pem",
        "partitions": 3,
        "replication_factor": 3,
        "min_insync_replicas": 2,
        "transactions": True,
        "session_timeout_ms": 6000,
    }


def platform_settings(
    cluster: SecuredCluster,
    data_dir: Path,
    suffix: str,
    secrets: Path | None = None,
    **overrides: Any,
) -> Settings:
    """Settings of the platform on the cluster: every client picks its own principal."""
    kafka = {**kafka_overrides(cluster, secrets), **overrides.pop("kafka", {})}
    return load_settings(
        data_dir=data_dir,
        kafka=kafka,
        broker={"embedded": False},
        topics=topic_names(suffix),
        **overrides,
    )


def platform_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment giving a `vitrina` subprocess exactly `settings` (kafka, topics, data dir)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VITRINA_")}
    kafka = settings.kafka
    env.update(
        {
            "VITRINA__DATA_DIR": str(settings.data_dir),
            "VITRINA__BROKER__EMBEDDED": "false",
            "VITRINA__KAFKA__BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "VITRINA__KAFKA__SECURITY_PROTOCOL": kafka.security_protocol,
            "VITRINA__KAFKA__SASL_MECHANISM": kafka.sasl_mechanism,
            "VITRINA__KAFKA__PARTITIONS": str(kafka.partitions),
            "VITRINA__KAFKA__REPLICATION_FACTOR": str(kafka.replication_factor),
            "VITRINA__KAFKA__MIN_INSYNC_REPLICAS": str(kafka.min_insync_replicas),
            "VITRINA__KAFKA__TRANSACTIONS": str(kafka.transactions).lower(),
            "VITRINA__KAFKA__SESSION_TIMEOUT_MS": str(kafka.session_timeout_ms),
        }
    )
    if kafka.secrets_dir is not None:
        env["VITRINA__KAFKA__SECRETS_DIR"] = str(kafka.secrets_dir)
    if kafka.ssl_ca_location is not None:
        env["VITRINA__KAFKA__SSL_CA_LOCATION"] = str(kafka.ssl_ca_location)
    if kafka.sasl_username:
        env["VITRINA__KAFKA__SASL_USERNAME"] = kafka.sasl_username
    for role, name in settings.topics.model_dump().items():
        env[f"VITRINA__TOPICS__{role.upper()}"] = name
    env.update({f"VITRINA__{key}": value for key, value in extra.items()})
    return env


def vitrina(
    args: list[str], env: dict[str, str], timeout: float = 120.0
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run one `vitrina` command; return the result and how long it took (seconds)."""
    started = time.monotonic()
    result = subprocess.run(
        [*VITRINA, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return result, time.monotonic() - started


def prepare(cluster: SecuredCluster, settings: Settings) -> None:
    """Create `settings`' topics and grant the ACL plan for their names (additively)."""
    from confluent_kafka.admin import AdminClient

    from vitrina.kafka.admin import apply_topics
    from vitrina.kafka.clients import admin_config
    from vitrina.security.acl import _binding, describe_cluster_acls, plan_acls

    admin_settings = settings.model_copy(
        update={
            "kafka": settings.kafka.model_copy(
                update={"secrets_dir": cluster.secrets, "sasl_username": None}
            )
        }
    )
    apply_topics(admin_settings)
    admin = AdminClient(admin_config(admin_settings))
    have = set(describe_cluster_acls(admin))
    missing = [rule for rule in plan_acls(admin_settings) if rule not in have]
    if missing:
        for fut in admin.create_acls([_binding(r) for r in missing], request_timeout=30).values():
            fut.result()


def secrets_subset(cluster: SecuredCluster, folder: Path, principals: list[str]) -> Path:
    """A secrets folder holding only these principals' passwords (and the CA): a command
    that connects as anyone else fails, which proves whom it connects as."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for principal in principals:
        src = cluster.secrets / f"{principal}.password"
        (folder / src.name).write_bytes(src.read_bytes())
        os.chmod(folder / src.name, 0o600)
    return folder


def stacks_of(pid: int) -> str:
    """Python and native stacks of a running process (py-spy), for a test that found it hung."""
    spy = Path(sys.executable).parent / "py-spy"
    try:
        out = subprocess.run(
            [str(spy), "dump", "--native", "--pid", str(pid)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return out.stdout + out.stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"(no stacks: py-spy: {exc})"

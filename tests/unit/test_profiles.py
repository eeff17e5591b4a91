"""The settings profiles that ship in the package."""

from __future__ import annotations

import pytest

from vitrina.kafka.clients import ca_location, identity, secrets_dir
from vitrina.settings import load_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for key in [k for k in os.environ if k.startswith("VITRINA_")]:
        monkeypatch.delenv(key)
    return monkeypatch


def test_cluster_profile_is_the_platform_on_cluster_up(clean_env: pytest.MonkeyPatch) -> None:
    from vitrina.cluster import topology

    clean_env.setenv("VITRINA__PROFILE", "cluster")  # restored after the test
    settings = load_settings()
    plan = topology.Plan(settings.data_dir)
    assert settings.kafka.bootstrap_servers == ",".join(
        f"127.0.0.1:{p.client}" for p in plan.primary_ports
    )
    assert settings.kafka.security_protocol == "SASL_SSL"
    assert settings.kafka.transactions and settings.kafka.replication_factor == 3
    assert settings.kafka.sasl_username is None  # each service is its own principal
    # The passwords and CA where `cluster up` writes them (topology.Plan.secrets).
    assert secrets_dir(settings) == plan.secrets
    assert ca_location(settings) == plan.secrets / "ca.pem"
    assert not identity(settings).embedded


def test_distributed_profile_keeps_the_compose_names(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("VITRINA__PROFILE", "distributed")
    settings = load_settings()
    assert settings.kafka.bootstrap_servers.startswith("kafka-1:9093")


def test_broker_start_refuses_to_start_tansu_for_an_external_cluster(
    clean_env: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from typer.testing import CliRunner

    from vitrina.cli.main import app

    clean_env.setenv("VITRINA__PROFILE", "cluster")
    clean_env.setenv("VITRINA__DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["broker", "start"])
    assert result.exit_code == 1
    assert "external cluster" in result.output and "vitrina cluster up" in result.output

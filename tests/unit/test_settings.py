"""The settings tree: defaults, profile file, environment, validation messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from vitrina.errors import ConfigError
from vitrina.settings import load_settings, local_secret
from vitrina.topics import declared_topics


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VITRINA__PROFILE", "VITRINA_PROFILE"):
        monkeypatch.delenv(name, raising=False)


def test_embedded_defaults() -> None:
    s = load_settings()
    assert s.kafka.bootstrap_servers == "127.0.0.1:19092"
    assert s.kafka.replication_factor == 1
    assert s.broker.embedded is True
    assert s.lake.backend.type == "file"
    assert s.search.backend.type == "embedded"
    assert s.lake_url.startswith("file://")


def test_distributed_profile_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings("distributed")
    assert s.kafka.security_protocol == "SASL_SSL"
    assert s.kafka.replication_factor == 3 and s.kafka.min_insync_replicas == 2
    assert s.kafka.transactions is True
    assert s.broker.embedded is False
    assert s.search.backend.type == "opensearch"
    assert s.lake.backend.type == "webhdfs"
    assert s.analytics.engine == "spark"


def test_environment_beats_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VITRINA__KAFKA__PARTITIONS", "12")
    s = load_settings("distributed")
    assert s.kafka.partitions == 12
    assert s.kafka.replication_factor == 3  # still from the profile


def test_cli_overrides_beat_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VITRINA__KAFKA__PARTITIONS", "12")
    assert load_settings(kafka={"partitions": 5}).kafka.partitions == 5


def test_invalid_value_names_the_key_and_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VITRINA__BROKER__PORT", "99999")
    with pytest.raises(ConfigError) as exc:
        load_settings()
    assert "broker.port" in str(exc.value)
    assert "VITRINA__BROKER__PORT" in str(exc.value)


def test_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings("nonsense")
    assert "distributed" in str(exc.value)


def test_settings_are_frozen() -> None:
    s = load_settings()
    with pytest.raises(ValidationError):
        s.kafka.partitions = 9  # type: ignore[misc]


def test_distributed_topics_have_rf3_and_min_insync(monkeypatch: pytest.MonkeyPatch) -> None:
    specs = declared_topics(load_settings("distributed"))
    assert len(specs) == 12  # 10 platform topics + withheld-products + product-owners
    assert all(t.replication_factor == 3 for t in specs)
    assert all(t.configs["min.insync.replicas"] == "2" for t in specs)


def test_embedded_topics_policies() -> None:
    specs = {t.role: t for t in declared_topics(load_settings())}
    assert specs["banned_products"].compacted and specs["banned_products"].partitions == 1
    assert specs["filtered_products"].compacted and specs["recommendations"].compacted
    assert specs["shop_products"].configs["retention.ms"] == str(7 * 24 * 3600 * 1000)
    assert not specs["dead_letters"].compacted
    assert all(t.replication_factor == 1 for t in specs.values())


def test_local_secret_is_generated_once_and_private(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path)
    first = local_secret(s, "admin.token")
    assert local_secret(s, "admin.token") == first and len(first) >= 24
    assert (s.secrets_dir / "admin.token").stat().st_mode & 0o077 == 0


def test_loading_a_profile_writes_nothing_to_the_environment() -> None:
    """Issue 13 item 4: load_settings wrote VITRINA__PROFILE into os.environ."""
    import os

    before = dict(os.environ)
    settings = load_settings("distributed")
    assert settings.profile == "distributed" and settings.kafka.replication_factor == 3
    assert dict(os.environ) == before
    assert load_settings().profile == "embedded"  # the next load is not affected


def test_settings_file_hands_children_the_exact_settings(tmp_path: Path) -> None:
    from pydantic import SecretStr

    from vitrina.settings import write_settings_file

    settings = load_settings(
        "distributed", data_dir=tmp_path / "data", api={"admin_token": SecretStr("s3cret")}
    )
    path = write_settings_file(settings, tmp_path / "run" / "settings.json")
    assert path.stat().st_mode & 0o777 == 0o600
    again = load_settings(settings_file=path)
    assert again == settings
    assert again.api.admin_token is not None
    assert again.api.admin_token.get_secret_value() == "s3cret"
    assert load_settings(settings_file=path, log_level="DEBUG").log_level == "DEBUG"


def test_the_clients_follow_an_embedded_broker_moved_to_another_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new user's second platform, its broker moved with VITRINA__BROKER__PORT as the
    error's hint said: every service still connected to 127.0.0.1:19092, the first
    platform's broker, and took its bans and partitions."""
    from vitrina.settings import load_settings

    monkeypatch.setenv("VITRINA__BROKER__PORT", "43092")
    assert load_settings().kafka.bootstrap_servers == "127.0.0.1:43092"
    monkeypatch.setenv("VITRINA__KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:5000")  # said: kept
    assert load_settings().kafka.bootstrap_servers == "127.0.0.1:5000"
    monkeypatch.delenv("VITRINA__KAFKA__BOOTSTRAP_SERVERS")
    outside = load_settings(broker={"embedded": False, "port": 43093})
    assert outside.kafka.bootstrap_servers == "127.0.0.1:19092"  # no broker of ours to follow
    assert load_settings().kafka.bootstrap_servers == "127.0.0.1:43092"
    monkeypatch.delenv("VITRINA__BROKER__PORT")
    assert load_settings().kafka.bootstrap_servers == "127.0.0.1:19092"

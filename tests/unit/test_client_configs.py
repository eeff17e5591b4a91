"""Client configs from settings: SASL_SSL per service principal, fail fast on missing secrets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from confluent_kafka import Producer

from vitrina.errors import ConfigError
from vitrina.kafka.clients import admin_config, consumer_config, producer_config
from vitrina.security import SERVICE_PRINCIPALS
from vitrina.security.credentials import build_material, write_material
from vitrina.settings import Settings, load_settings


@pytest.fixture(scope="module")
def secrets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("secrets") / "kafka"
    write_material(out, build_material(brokers=1, mirror_brokers=0, now=datetime.now(UTC)))
    return out


def _secured(folder: Path, /, **kafka: object) -> Settings:
    base = {"bootstrap_servers": "kafka-1:9093", "security_protocol": "SASL_SSL",
            "secrets_dir": folder, "ssl_ca_location": folder / "ca.pem"}
    return load_settings(kafka={**base, **kafka})


def test_embedded_default_is_plaintext_without_credentials() -> None:
    conf = producer_config(load_settings(), "filter")
    assert conf["security.protocol"] == "PLAINTEXT"
    assert not {"sasl.username", "sasl.password", "ssl.ca.location"} & set(conf)


@pytest.mark.parametrize("principal", SERVICE_PRINCIPALS)
def test_each_service_connects_as_itself_with_its_own_password(secrets_dir: Path,
                                                               principal: str) -> None:
    conf = consumer_config(_secured(secrets_dir), principal, f"vitrina-{principal}")
    assert conf["security.protocol"] == "SASL_SSL"
    assert conf["sasl.mechanism"] == "SCRAM-SHA-512"
    assert conf["sasl.username"] == principal
    assert conf["sasl.password"] == (secrets_dir / f"{principal}.password").read_text().strip()
    assert conf["ssl.ca.location"] == str(secrets_dir / "ca.pem")
    assert conf["ssl.endpoint.identification.algorithm"] == "https"
    assert conf["client.id"] == f"vitrina-{principal}"


def test_admin_config_defaults_to_the_admin_principal(secrets_dir: Path) -> None:
    assert admin_config(_secured(secrets_dir))["sasl.username"] == "admin"


def test_librdkafka_accepts_the_secured_config(secrets_dir: Path) -> None:
    # Building a client validates every property name/value and loads the CA file; it does
    # not connect (kafka-1 does not exist here), so this stays a unit test.
    producer = Producer(producer_config(_secured(secrets_dir), "shop-api"))
    assert producer.flush(0) == 0


def test_missing_password_file_fails_fast_with_a_hint(secrets_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "nothing"
    empty.mkdir()
    settings = _secured(secrets_dir, secrets_dir=empty)
    with pytest.raises(ConfigError, match=r"nothing/filter\.password is missing") as err:
        producer_config(settings, "filter")
    assert "vitrina security init" in (err.value.hint or "")


def test_empty_password_file_fails_fast(secrets_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "filter.password").write_text("\n")
    with pytest.raises(ConfigError, match="is empty"):
        producer_config(_secured(secrets_dir, secrets_dir=tmp_path), "filter")


def test_missing_ca_fails_fast(secrets_dir: Path, tmp_path: Path) -> None:
    settings = _secured(secrets_dir, ssl_ca_location=tmp_path / "absent-ca.pem")
    with pytest.raises(ConfigError, match=r"absent-ca\.pem does not exist") as err:
        consumer_config(settings, "indexer", "vitrina-indexer")
    assert "security init" in (err.value.hint or "")
    unset = load_settings(kafka={"security_protocol": "SASL_SSL", "secrets_dir": secrets_dir})
    with pytest.raises(ConfigError, match="ssl_ca_location is not set"):
        admin_config(unset)


def test_no_principal_and_no_secrets_dir_fails_fast(secrets_dir: Path) -> None:
    with pytest.raises(ConfigError, match="no SASL password for filter"):
        producer_config(load_settings(kafka={"security_protocol": "SASL_SSL"}), "filter")
    with pytest.raises(ConfigError, match="sasl_username is not set"):
        base = load_settings(kafka={"security_protocol": "SASL_PLAINTEXT"})
        producer_config(base, None)


def test_explicit_password_overrides_the_file(secrets_dir: Path) -> None:
    conf = producer_config(_secured(secrets_dir, sasl_password="from-env",
                                    sasl_username="ops"), "filter")
    assert (conf["sasl.username"], conf["sasl.password"]) == ("ops", "from-env")

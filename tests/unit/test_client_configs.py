"""Client configs from settings: SASL_SSL per service principal, fail fast on missing secrets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, Producer

from vitrina.errors import ConfigError
from vitrina.kafka.clients import admin_config, consumer_config, identity, producer_config
from vitrina.kafka.errors import (
    REPEAT_S,
    ClientIdentity,
    ErrorWatch,
    KafkaAccessDenied,
    KafkaAuthError,
    KafkaTlsError,
    explain,
)
from vitrina.security import SERVICE_PRINCIPALS
from vitrina.security.credentials import build_material, write_material
from vitrina.settings import Settings, load_settings


@pytest.fixture(scope="module")
def secrets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("secrets") / "kafka"
    write_material(out, build_material(brokers=1, mirror_brokers=0, now=datetime.now(UTC)))
    return out


def _secured(folder: Path, /, **kafka: object) -> Settings:
    base = {
        "bootstrap_servers": "kafka-1:9093",
        "security_protocol": "SASL_SSL",
        "secrets_dir": folder,
        "ssl_ca_location": folder / "ca.pem",
    }
    return load_settings(kafka={**base, **kafka})


def test_embedded_default_is_plaintext_without_credentials() -> None:
    conf = producer_config(load_settings(), "filter")
    assert conf["security.protocol"] == "PLAINTEXT"
    assert not {"sasl.username", "sasl.password", "ssl.ca.location"} & set(conf)


@pytest.mark.parametrize("principal", SERVICE_PRINCIPALS)
def test_each_service_connects_as_itself_with_its_own_password(
    secrets_dir: Path, principal: str
) -> None:
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
    # The folder is named: `security init` alone writes deploy/compose/secrets when run in
    # the repository, and the same error came back after following the hint.
    assert f"vitrina security init --out {empty}" in (err.value.hint or "")


def test_empty_password_file_fails_fast(secrets_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "filter.password").write_text("\n")
    with pytest.raises(ConfigError, match="is empty"):
        producer_config(_secured(secrets_dir, secrets_dir=tmp_path), "filter")


def test_missing_ca_fails_fast(secrets_dir: Path, tmp_path: Path) -> None:
    settings = _secured(secrets_dir, ssl_ca_location=tmp_path / "absent-ca.pem")
    with pytest.raises(ConfigError, match=r"absent-ca\.pem does not exist") as err:
        consumer_config(settings, "indexer", "vitrina-indexer")
    assert f"security init --out {tmp_path}" in (err.value.hint or "")
    (tmp_path / "admin.password").write_text("pw")
    unset = load_settings(kafka={"security_protocol": "SASL_SSL", "secrets_dir": tmp_path})
    with pytest.raises(ConfigError, match=f"CA file {tmp_path}/ca.pem does not exist"):
        admin_config(unset)


def test_secrets_default_to_where_security_init_writes(secrets_dir: Path) -> None:
    """No paths in a profile: <data_dir>/secrets/kafka is where `security init` and
    `cluster up` put the passwords and ca.pem, so that is the default."""
    data_dir = secrets_dir.parent.parent
    (data_dir / "secrets").mkdir(exist_ok=True)
    link = data_dir / "secrets" / "kafka"
    if not link.exists():
        link.symlink_to(secrets_dir)
    conf = producer_config(
        load_settings(data_dir=data_dir, kafka={"security_protocol": "SASL_SSL"}), "filter"
    )
    assert conf["sasl.password"] == (secrets_dir / "filter.password").read_text().strip()
    assert conf["ssl.ca.location"] == str(link / "ca.pem")
    with pytest.raises(ConfigError, match=r"nowhere/secrets/kafka/filter\.password is missing"):
        producer_config(
            load_settings(data_dir=data_dir / "nowhere", kafka={"security_protocol": "SASL_SSL"}),
            "filter",
        )
    with pytest.raises(ConfigError, match="sasl_username is not set"):
        base = load_settings(kafka={"security_protocol": "SASL_PLAINTEXT"})
        producer_config(base, None)


def test_explicit_password_overrides_the_file(secrets_dir: Path) -> None:
    conf = producer_config(
        _secured(secrets_dir, sasl_password="from-env", sasl_username="ops"), "filter"
    )
    assert (conf["sasl.username"], conf["sasl.password"]) == ("ops", "from-env")


# -- errors that tell the truth (issue 11, item 3) -------------------------------------------
# The precise cause reaches the client's error_cb long before a request times out; these
# unit tests pin the mapping. tests/distributed/test_services_errors.py checks it on a real
# secured cluster (wrong password, untrusted CA, ACL denial each in < 10 s).


def _ident(secrets_dir: Path, principal: str = "indexer") -> ClientIdentity:
    return identity(_secured(secrets_dir), principal)


def test_every_client_gets_an_error_watch_and_quiet_librdkafka(secrets_dir: Path) -> None:
    own_hook: list[KafkaError] = []
    conf = consumer_config(_secured(secrets_dir), "indexer", "g", error_cb=own_hook.append)
    watch = conf["error_cb"]
    assert isinstance(watch, ErrorWatch) and watch.ident.principal == "indexer"
    watch(KafkaError(KafkaError._TRANSPORT, "refused"))
    assert [e.code() for e in own_hook] == [KafkaError._TRANSPORT]  # the caller's hook runs
    # Critical only: every error reaches error_cb, which reports it once (143 raw lines before).
    assert conf["log_level"] == 2
    assert admin_config(load_settings(log_level="DEBUG"))["log_level"] == 7


def test_wrong_password_names_the_principal_its_password_file_and_the_fix(
    secrets_dir: Path,
) -> None:
    err = explain(
        KafkaError(KafkaError._AUTHENTICATION, "SASL authentication error: invalid credentials"),
        _ident(secrets_dir),
    )
    assert isinstance(err, KafkaAuthError)
    assert err.message.startswith("authentication failed for principal indexer at kafka-1:9093")
    assert str(secrets_dir / "indexer.password") in (err.hint or "")
    assert (err.hint or "").startswith("fix:")


@pytest.mark.parametrize("code", [KafkaError._SSL, KafkaError._TRANSPORT])
def test_untrusted_ca_is_a_tls_error_naming_ssl_ca_location(secrets_dir: Path, code: int) -> None:
    # librdkafka reports the first failed handshake as _TRANSPORT, later ones as _SSL.
    err = explain(
        KafkaError(
            code, "SSL handshake failed: error:0A000086:SSL routines::certificate verify failed"
        ),
        _ident(secrets_dir),
    )
    assert isinstance(err, KafkaTlsError)
    assert err.message.startswith(
        f"TLS handshake failed: certificate not trusted (ssl.ca.location {secrets_dir / 'ca.pem'})"
    )
    assert "VITRINA__KAFKA__SSL_CA_LOCATION" in (err.hint or "")


def test_acl_denial_is_not_a_missing_topic(secrets_dir: Path) -> None:
    ident = _ident(secrets_dir, "client-api")
    err = explain(
        KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED),
        ident,
        operation="WRITE",
        topic="shop-products",
    )
    assert isinstance(err, KafkaAccessDenied) and err.status_code == 403
    assert err.message == "principal client-api is not allowed to WRITE topic shop-products"
    assert "vitrina acl plan" in (err.hint or "")
    group = explain(KafkaError(KafkaError.GROUP_AUTHORIZATION_FAILED), ident, group="g1")
    assert group is not None and group.message.endswith("READ consumer group g1")


def test_the_watch_raises_permanent_errors_and_says_transient_ones_once(
    secrets_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    now = [1000.0]
    watch = ErrorWatch(_ident(secrets_dir), clock=lambda: now[0])
    unique = f"kafka-{id(watch)}:9093"  # the reporter is process-wide: its own address
    watch.ident = ClientIdentity("indexer", unique, "SASL_SSL")
    with caplog.at_level("WARNING", logger="vitrina.kafka"):
        for i in range(30):  # all the minute long, while the broker is away
            now[0] = 1000.0 + 2 * i
            watch(KafkaError(KafkaError._ALL_BROKERS_DOWN, "1/1 brokers are down"))
        now[0] = 1000.0 + REPEAT_S + 1
        watch(KafkaError(KafkaError._TRANSPORT, "connection refused"))
    lines = [r.getMessage() for r in caplog.records if unique in r.getMessage()]
    assert len(lines) == 2 and "retrying" in lines[0] and "30 times" in lines[1]
    with pytest.raises(KafkaAuthError):
        watch(KafkaError(KafkaError._AUTHENTICATION, "invalid credentials"))
    with pytest.raises(KafkaAuthError):
        watch.check()


def test_a_login_cut_by_a_stopping_broker_is_not_a_wrong_password(secrets_dir: Path) -> None:
    """A broker killed mid-handshake also ends the login with _AUTHENTICATION: retry, don't
    stop the service with "authentication failed"."""
    watch = ErrorWatch(_ident(secrets_dir))
    cut = KafkaError(
        KafkaError._AUTHENTICATION,
        "sasl_ssl://127.0.0.1:29092/1: SASL "
        "authentication error: Disconnected (after 2ms in state AUTH_REQ)",
    )
    watch(cut)  # reported, not raised
    watch.check()
    assert explain(cut, _ident(secrets_dir)) is None
    refused = KafkaError(
        KafkaError._AUTHENTICATION,
        "SASL authentication error: Authentication "
        "failed during authentication due to invalid credentials with SASL "
        "mechanism SCRAM-SHA-512",
    )
    with pytest.raises(KafkaAuthError):
        watch(refused)


def test_an_unacknowledged_write_is_not_called_unreachable(secrets_dir: Path) -> None:
    err = explain(KafkaError(KafkaError.NOT_ENOUGH_REPLICAS), _ident(secrets_dir), topic="orders")
    assert err is not None and "did not acknowledge the write to orders" in err.message
    assert "min.insync.replicas" in (err.hint or "")


def test_an_unreachable_broker_is_not_said_to_be_up(secrets_dir: Path) -> None:
    """librdkafka's "0/1 brokers are down" (the one broker gone between its checks) beside
    "cannot reach the Kafka broker" read as a contradiction (chaos review): the count goes."""
    err = explain(
        KafkaError(KafkaError._ALL_BROKERS_DOWN, "0/1 brokers are down"), _ident(secrets_dir)
    )
    assert err is not None and err.message.startswith("cannot reach the Kafka broker at")
    assert "brokers are down" not in err.message and not err.message.endswith("()")


def test_consumers_do_not_wait_a_second_after_a_full_prefetch_queue() -> None:
    """Regression: librdkafka pauses fetching for 1 s once a consumer's prefetch queue is
    full (`fetch.queue.backoff.ms`); the lake sink on a backlog emptied its 64 MB queue in
    less than that and waited (84k msg/s, against 133k with 50 ms; the note of stop 34).
    Every consumer and reader gets the short pause; librdkafka knows the property."""
    from confluent_kafka import Consumer

    conf = consumer_config(load_settings(), "lake-sink", "g")
    assert conf["fetch.queue.backoff.ms"] <= 50
    Consumer(conf).close()

"""Client configuration for every service, from the one settings tree.

Security (SASL_SSL with per-service SCRAM credentials) is applied here and only here, so a
service never builds a librdkafka config by hand.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from vitrina.errors import ConfigError
from vitrina.kafka.errors import ClientIdentity, ErrorWatch
from vitrina.settings import Settings

# librdkafka's own log lines go through Python logging (levels, handlers, capture in tests)
# instead of being written straight to stderr.
CLIENT_LOG = logging.getLogger("vitrina.kafka.client")


def _read_secret(path: Path) -> str:
    try:
        value = path.read_text("utf-8").strip()
    except FileNotFoundError:
        raise ConfigError(
            f"secret file {path} is missing",
            # `security init` alone writes deploy/compose/secrets inside the repository (for
            # compose), not this folder: name the folder, so the hint works wherever it runs.
            hint=f"run `vitrina cluster up` (it creates them) or `vitrina security init --out "
            f"{path.parent}`, point kafka.secrets_dir at the folder that holds them, "
            "or set VITRINA__KAFKA__SASL_PASSWORD",
        ) from None
    if not value:
        raise ConfigError(
            f"secret file {path} is empty",
            hint="run `vitrina security init --force` to regenerate it",
        )
    return value


def _is_embedded(settings: Settings) -> bool:
    broker = settings.broker
    local = {
        f"{h}:{p}"
        for h in (broker.host, "localhost", "127.0.0.1")
        for p in (broker.port, broker.mirror_port)
    }
    return broker.embedded and settings.kafka.bootstrap_servers in local


def secrets_dir(settings: Settings) -> Path:
    """Where per-principal passwords are: kafka.secrets_dir, else where `vitrina security
    init` writes outside the repository (<data_dir>/secrets/kafka, also `cluster up`'s)."""
    return settings.kafka.secrets_dir or settings.secrets_dir / "kafka"


def ca_location(settings: Settings) -> Path:
    """The CA clients trust: kafka.ssl_ca_location, else ca.pem next to the passwords."""
    return settings.kafka.ssl_ca_location or secrets_dir(settings) / "ca.pem"


def identity(settings: Settings, principal: str | None = None) -> ClientIdentity:
    """Who a client of `principal` is, for error messages (reads no secret)."""
    kafka = settings.kafka
    sasl = kafka.security_protocol.startswith("SASL")
    user = (kafka.sasl_username or principal) if sasl else None
    source = ""
    if sasl and kafka.sasl_password is not None:
        source = "VITRINA__KAFKA__SASL_PASSWORD"
    elif sasl and user:
        source = str(secrets_dir(settings) / f"{user}.password")
    tls = kafka.security_protocol in {"SSL", "SASL_SSL"}
    return ClientIdentity(
        user,
        kafka.bootstrap_servers,
        kafka.security_protocol,
        kafka.sasl_mechanism if sasl else "",
        str(ca_location(settings)) if tls else None,
        source,
        _is_embedded(settings),
    )


def _watch(conf: dict[str, Any], ident: ClientIdentity) -> dict[str, Any]:
    """Install an ErrorWatch as error_cb, keeping a caller's own callback as its hook."""
    cb = conf.get("error_cb")
    if not isinstance(cb, ErrorWatch):
        conf["error_cb"] = ErrorWatch(ident, on_error=cb)
    return conf


def base_config(settings: Settings, principal: str | None = None) -> dict[str, Any]:
    """Connection + security settings shared by producers, consumers and admin clients.

    `principal` names the service's SASL user (e.g. "filter"); its password is read from
    `<kafka.secrets_dir>/<principal>.password` unless a password is set explicitly.
    Every client gets an ErrorWatch as `error_cb` (see kafka/errors.py): a wrong password
    or an untrusted CA comes out of the next poll as one clear error, a broker that is away
    is reported once, and librdkafka's own per-retry log lines stay quiet unless
    log_level is DEBUG.
    """
    kafka = settings.kafka
    conf: dict[str, Any] = {
        "bootstrap.servers": kafka.bootstrap_servers,
        "security.protocol": kafka.security_protocol,
        "client.id": f"vitrina-{principal or 'cli'}",
        # Fail fast instead of retrying forever on a broker that is not there.
        "socket.connection.setup.timeout.ms": 10000,
        "logger": CLIENT_LOG,
        # 2 (critical) unless debugging: every error also reaches error_cb, which reports
        # it once; at the default (6) a wrong password logs a line per retry (~3 per second).
        "log_level": 7 if settings.log_level == "DEBUG" else 2,
    }
    if kafka.security_protocol.startswith("SASL"):
        user = kafka.sasl_username or principal
        if not user:
            raise ConfigError("kafka.sasl_username is not set", hint="set the service principal")
        if kafka.sasl_password is not None:
            password = kafka.sasl_password.get_secret_value()
        else:
            password = _read_secret(secrets_dir(settings) / f"{user}.password")
        conf.update(
            {
                "sasl.mechanism": kafka.sasl_mechanism,
                "sasl.username": user,
                "sasl.password": password,
            }
        )
    if kafka.security_protocol in {"SSL", "SASL_SSL"}:
        ca = ca_location(settings)
        if not ca.is_file():
            raise ConfigError(
                f"CA file {ca} does not exist",
                hint=f"run `vitrina cluster up` (it creates it) or `vitrina security init "
                f"--out {ca.parent}`, or set kafka.ssl_ca_location "
                "(VITRINA__KAFKA__SSL_CA_LOCATION)",
            )
        conf["ssl.ca.location"] = str(ca)
        conf["ssl.endpoint.identification.algorithm"] = "https"
    conf["error_cb"] = ErrorWatch(identity(settings, principal))
    return conf


def producer_config(
    settings: Settings,
    principal: str | None = None,
    *,
    transactional_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    conf = base_config(settings, principal)
    conf.update(
        {
            "acks": "all",
            "enable.idempotence": True,
            "compression.type": settings.kafka.compression,
            # 20 ms: batches 1 KB products well without adding visible latency.
            "linger.ms": 20,
            "batch.num.messages": 10000,
            "queue.buffering.max.messages": 500000,
            "message.timeout.ms": 60000,
            # Topics come from `vitrina topics apply` only: a producer must never create one
            # (librdkafka's producer default is true; the embedded broker would make 4 partitions).
            "allow.auto.create.topics": False,
        }
    )
    if transactional_id:
        conf["transactional.id"] = transactional_id
        timeout_ms = settings.kafka.transaction_timeout_ms
        conf["transaction.timeout.ms"] = timeout_ms
        # librdkafka refuses a record timeout longer than the transaction's.
        conf["message.timeout.ms"] = min(conf["message.timeout.ms"], timeout_ms)
    conf.update(extra)
    return _watch(conf, identity(settings, principal))


FETCH_QUEUE_BACKOFF_MS = 50


def consumer_config(
    settings: Settings, principal: str | None, group_id: str | None, **extra: Any
) -> dict[str, Any]:
    conf = base_config(settings, principal)
    conf.update(
        {
            "group.id": group_id or f"vitrina-{principal or 'cli'}-reader",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "allow.auto.create.topics": False,
            "session.timeout.ms": settings.kafka.session_timeout_ms,
            "isolation.level": "read_committed",
            "partition.assignment.strategy": "cooperative-sticky",
            # librdkafka pauses fetching for 1 s (its default) once the prefetch queue is
            # full (64 MB); a reader faster than that (the lake sink on a backlog) then waits
            # out the pause: `run lake-sink` over 100k products (~1.2 KB) 84k msg/s, a bare
            # consume-and-parse loop 60k; with 50 ms 133k and 317k.
            "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS,
        }
    )
    conf.update(extra)
    return _watch(conf, identity(settings, principal))


def admin_config(settings: Settings, principal: str | None = "admin") -> dict[str, Any]:
    return base_config(settings, principal)

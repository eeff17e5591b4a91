"""Client configuration for every service, from the one settings tree.

Security (SASL_SSL with per-service SCRAM credentials) is applied here and only here, so a
service never builds a librdkafka config by hand.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from vitrina.errors import ConfigError
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
            hint="run `vitrina security init` or set VITRINA__KAFKA__SASL_PASSWORD",
        ) from None
    if not value:
        raise ConfigError(f"secret file {path} is empty",
                          hint="run `vitrina security init --force` to regenerate it")
    return value


def base_config(settings: Settings, principal: str | None = None) -> dict[str, Any]:
    """Connection + security settings shared by producers, consumers and admin clients.

    `principal` names the service's SASL user (e.g. "filter"); its password is read from
    `<kafka.secrets_dir>/<principal>.password` unless a password is set explicitly.
    """
    kafka = settings.kafka
    conf: dict[str, Any] = {
        "bootstrap.servers": kafka.bootstrap_servers,
        "security.protocol": kafka.security_protocol,
        "client.id": f"vitrina-{principal or 'cli'}",
        # Fail fast instead of retrying forever on a broker that is not there.
        "socket.connection.setup.timeout.ms": 10000,
        "logger": CLIENT_LOG,
    }
    if kafka.security_protocol.startswith("SASL"):
        user = kafka.sasl_username or principal
        if not user:
            raise ConfigError("kafka.sasl_username is not set", hint="set the service principal")
        if kafka.sasl_password is not None:
            password = kafka.sasl_password.get_secret_value()
        elif kafka.secrets_dir is not None:
            password = _read_secret(kafka.secrets_dir / f"{user}.password")
        else:
            raise ConfigError(
                f"no SASL password for {user}",
                hint="set kafka.secrets_dir (see `vitrina security init`) "
                "or VITRINA__KAFKA__SASL_PASSWORD",
            )
        conf.update({"sasl.mechanism": kafka.sasl_mechanism, "sasl.username": user,
                     "sasl.password": password})
    if kafka.security_protocol in {"SSL", "SASL_SSL"}:
        if kafka.ssl_ca_location is None:
            raise ConfigError("kafka.ssl_ca_location is not set", hint="point it at the CA PEM")
        if not Path(kafka.ssl_ca_location).is_file():
            raise ConfigError(f"CA file {kafka.ssl_ca_location} does not exist",
                              hint="run `vitrina security init` or fix kafka.ssl_ca_location")
        conf["ssl.ca.location"] = str(kafka.ssl_ca_location)
        conf["ssl.endpoint.identification.algorithm"] = "https"
    return conf


def producer_config(settings: Settings, principal: str | None = None, *,
                    transactional_id: str | None = None, **extra: Any) -> dict[str, Any]:
    conf = base_config(settings, principal)
    conf.update({
        "acks": "all",
        "enable.idempotence": True,
        "compression.type": settings.kafka.compression,
        # 20 ms: batches 1 KB products well without adding visible latency.
        "linger.ms": 20,
        "batch.num.messages": 10000,
        "queue.buffering.max.messages": 500000,
        "message.timeout.ms": 60000,
    })
    if transactional_id:
        conf["transactional.id"] = transactional_id
    conf.update(extra)
    return conf


def consumer_config(settings: Settings, principal: str | None, group_id: str | None,
                    **extra: Any) -> dict[str, Any]:
    conf = base_config(settings, principal)
    conf.update({
        "group.id": group_id or f"vitrina-{principal or 'cli'}-reader",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "allow.auto.create.topics": False,
        "session.timeout.ms": settings.kafka.session_timeout_ms,
        "isolation.level": "read_committed",
        "partition.assignment.strategy": "cooperative-sticky",
    })
    conf.update(extra)
    return conf


def admin_config(settings: Settings, principal: str | None = "admin") -> dict[str, Any]:
    return base_config(settings, principal)

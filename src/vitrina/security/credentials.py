"""Everything `vitrina security init` writes: CA, broker keystores, SCRAM users, client files.

`build_material` is pure (time and randomness injected) and returns the files as data;
`write_material` puts them on disk with the right modes and refuses to overwrite without
`force`. The folder is gitignored: nothing here is ever committed.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from vitrina.errors import ConfigError
from vitrina.security import ALL_PRINCIPALS
from vitrina.security.pki import Issued, issue_server_cert, keystore_pem, make_ca

PRIVATE = 0o600  # keys, passwords, files embedding a password
# Password files have no trailing newline: Kafka's DirectoryConfigProvider (MirrorMaker 2)
# and Grafana's __FILE settings read them byte for byte.
PUBLIC = 0o644  # certificates: needed by every client, secret to no one
MECHANISM = "SCRAM-SHA-512"
# Services that are not Kafka principals but need a generated password of their own.
EXTRA_PASSWORDS = ("opensearch-admin", "grafana-admin")


@dataclass(frozen=True)
class SecretFile:
    name: str
    content: bytes
    mode: int


def broker_hosts(brokers: int, prefix: str = "kafka") -> list[str]:
    return [f"{prefix}-{i}" for i in range(1, brokers + 1)]


def format_command(args_file: Path | str) -> str:
    """How to format a KRaft node's storage with these SCRAM users (`xargs` keeps the
    quoted `--add-scram 'SCRAM-SHA-512=[name=…,password=…]'` arguments whole)."""
    return (
        f"xargs -a {args_file} kafka-storage.sh format --cluster-id <cluster-id> "
        f"--config server.properties"
    )


def scram_args(passwords: dict[str, str]) -> str:
    """The KRaft bootstrap of SCRAM users: arguments to `kafka-storage.sh format`.

    KRaft keeps SCRAM credentials in the metadata log, so the first users must be added when
    the storage is formatted (there is no ZooKeeper to write them to beforehand).
    """
    return "".join(
        f"--add-scram '{MECHANISM}=[name={user},password={pw}]'\n" for user, pw in passwords.items()
    )


# Inside the compose stack's containers (deploy/compose mounts the folder here).
COMPOSE_CA = "/run/secrets/vitrina/ca.pem"


def client_properties(
    principal: str, password: str, bootstrap: str, ca_path: str = COMPOSE_CA
) -> str:
    """A Java client property file (kafka-*.sh --command-config, MirrorMaker 2)."""
    return (
        f"# Kafka client settings for principal {principal}; generated, do not commit.\n"
        f"bootstrap.servers={bootstrap}\n"
        "security.protocol=SASL_SSL\n"
        f"sasl.mechanism={MECHANISM}\n"
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{principal}" password="{password}";\n'
        "ssl.truststore.type=PEM\n"
        f"ssl.truststore.location={ca_path}\n"
        "ssl.endpoint.identification.algorithm=https\n"
    )


BROKER_JAAS = (
    "// SCRAM listener of every broker: credentials are checked against the metadata log,\n"
    "// so the server side holds no password.\n"
    "KafkaServer {\n"
    "  org.apache.kafka.common.security.scram.ScramLoginModule required;\n"
    "};\n"
)


def build_material(
    *,
    brokers: int,
    mirror_brokers: int,
    now: datetime,
    password: Callable[[], str] = lambda: secrets.token_urlsafe(32),
    principals: tuple[str, ...] = ALL_PRINCIPALS,
    bootstrap: str | None = None,
    mirror_bootstrap: str | None = None,
    ca_path: str = COMPOSE_CA,
) -> list[SecretFile]:
    """Every file of the security folder, as data.

    The client `.properties` point at `bootstrap` / `mirror_bootstrap` and trust `ca_path`:
    by default the compose stack's names (kafka-N:9093, /run/secrets/vitrina/ca.pem); the
    CLI passes the chosen cluster's addresses and the folder's real path otherwise.
    """
    if brokers < 1:
        raise ConfigError("--brokers must be at least 1", hint="the compose stack uses 3")
    ca = make_ca(now)
    files = [
        SecretFile("ca.pem", ca.cert_pem, PUBLIC),
        SecretFile("ca-key.pem", ca.key_pem, PRIVATE),
    ]
    clusters = [
        (broker_hosts(brokers), "kafka"),
        (broker_hosts(mirror_brokers, "kafka-mirror"), "kafka-mirror"),
    ]
    for hosts, _ in clusters:
        for host in hosts:
            # localhost + 127.0.0.1: an operator may port-forward to one broker and keep
            # hostname verification on.
            leaf = issue_server_cert(ca, host, [host, "localhost", "127.0.0.1"], now)
            files += [
                SecretFile(f"{host}.pem", leaf.cert_pem, PUBLIC),
                SecretFile(f"{host}.keystore.pem", keystore_pem(leaf, ca), PRIVATE),
            ]
    search: Issued = issue_server_cert(ca, "opensearch", ["opensearch", "localhost"], now)
    files += [
        SecretFile("opensearch.pem", search.cert_pem + ca.cert_pem, PUBLIC),
        SecretFile("opensearch-key.pem", search.key_pem, PRIVATE),
    ]

    passwords = {principal: password() for principal in principals}
    bootstrap = bootstrap or ",".join(f"{h}:9093" for h in clusters[0][0])
    mirror_bootstrap = mirror_bootstrap or ",".join(f"{h}:9093" for h in clusters[1][0])
    for principal, pw in passwords.items():
        files.append(SecretFile(f"{principal}.password", pw.encode(), PRIVATE))
        files.append(
            SecretFile(
                f"{principal}.properties",
                client_properties(principal, pw, bootstrap, ca_path).encode(),
                PRIVATE,
            )
        )
    if mirror_brokers:
        files.append(
            SecretFile(
                "mirror-target.properties",
                client_properties(
                    "mirror", passwords.get("mirror", ""), mirror_bootstrap, ca_path
                ).encode(),
                PRIVATE,
            )
        )
    for name in EXTRA_PASSWORDS:
        # "-Vt9": OpenSearch demands upper, lower, digit and special characters.
        files.append(SecretFile(f"{name}.password", (password() + "-Vt9").encode(), PRIVATE))
    files.append(SecretFile("kafka-storage-scram.args", scram_args(passwords).encode(), PRIVATE))
    files.append(SecretFile("kafka_server_jaas.conf", BROKER_JAAS.encode(), PUBLIC))
    return files


def write_material(out: Path, files: list[SecretFile], *, force: bool = False) -> list[Path]:
    """Write the files (folder 0700, each file with its mode); refuse to overwrite.

    Without `force` nothing is written if any file exists, so a half-overwritten folder (new
    CA, old broker keys) can never happen.
    """
    existing = [f.name for f in files if (out / f.name).exists()]
    if existing and not force:
        shown = ", ".join(existing[:3]) + (" …" if len(existing) > 3 else "")
        raise ConfigError(
            f"security material already exists in {out} ({shown})",
            hint="keep it, or pass --force to replace ALL of it (then rotate: "
            "see docs/operations.md)",
        )
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(out, 0o700)
    written = []
    for f in files:
        path = out / f.name
        tmp = out / f".{f.name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, f.mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(f.content)
        os.chmod(tmp, f.mode)  # the umask may have narrowed it; set exactly
        os.replace(tmp, path)
        written.append(path)
    return written

"""The generated security material: chain, SANs, key usage, file modes, no overwrite."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store
from typer.testing import CliRunner

from vitrina.errors import ConfigError
from vitrina.security import ALL_PRINCIPALS, SERVICE_PRINCIPALS
from vitrina.security.credentials import build_material, write_material
from vitrina.security.pki import load_cert

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def material() -> dict[str, bytes]:
    counter = iter(range(1000))
    files = build_material(
        brokers=3, mirror_brokers=1, now=NOW, password=lambda: f"pw-{next(counter)}"
    )
    return {f.name: f.content for f in files}


def _certs(pem: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem)


@pytest.mark.parametrize("host", ["kafka-1", "kafka-2", "kafka-3", "kafka-mirror-1"])
def test_broker_chain_verifies_for_its_host_name(material: dict[str, bytes], host: str) -> None:
    ca = load_cert(material["ca.pem"])
    store = Store([ca])
    chain = _certs(material[f"{host}.keystore.pem"])
    verifier = (
        PolicyBuilder()
        .store(store)
        .time(NOW + timedelta(days=1))
        .build_server_verifier(x509.DNSName(host))
    )
    verified = verifier.verify(chain[0], chain[1:])
    assert verified[-1] == ca
    # The same certificate must NOT pass for another broker's name.
    other = (
        PolicyBuilder()
        .store(store)
        .time(NOW + timedelta(days=1))
        .build_server_verifier(x509.DNSName("kafka-9"))
    )
    with pytest.raises(x509.verification.VerificationError):
        other.verify(chain[0], chain[1:])


def test_sans_key_usage_and_extended_key_usage(material: dict[str, bytes]) -> None:
    leaf = load_cert(material["kafka-2.pem"])
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"kafka-2", "localhost"}
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and not ku.key_cert_sign
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca

    ca = load_cert(material["ca.pem"])
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    ca_ku = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ca_ku.key_cert_sign and ca_ku.crl_sign and not ca_ku.digital_signature


def test_keystore_holds_the_key_of_its_certificate(material: dict[str, bytes]) -> None:
    pem = material["kafka-1.keystore.pem"]
    key = load_pem_private_key(pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert b"BEGIN PRIVATE KEY" in pem  # PKCS#8, what Kafka's PEM keystore expects
    assert _certs(pem)[0].public_key() == key.public_key()


def test_scram_users_and_client_files(material: dict[str, bytes]) -> None:
    args = material["kafka-storage-scram.args"].decode()
    for principal in ALL_PRINCIPALS:
        password = material[f"{principal}.password"].decode().strip()
        assert f"--add-scram 'SCRAM-SHA-512=[name={principal},password={password}]'" in args
        props = material[f"{principal}.properties"].decode()
        assert f'username="{principal}" password="{password}"' in props
        assert "security.protocol=SASL_SSL" in props and "ssl.truststore.type=PEM" in props
    passwords = {material[f"{p}.password"] for p in ALL_PRINCIPALS}
    assert len(passwords) == len(ALL_PRINCIPALS)  # one distinct password per principal
    assert "kafka-mirror-1:9093" in material["mirror-target.properties"].decode()


def test_files_are_private_and_second_run_refuses(tmp_path: Path) -> None:
    out = tmp_path / "secrets"
    files = build_material(brokers=1, mirror_brokers=0, now=NOW)
    write_material(out, files)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for name in [
        "ca-key.pem",
        "kafka-1.keystore.pem",
        "opensearch-key.pem",
        "kafka-storage-scram.args",
        *(f"{p}.password" for p in SERVICE_PRINCIPALS),
        *(f"{p}.properties" for p in SERVICE_PRINCIPALS),
    ]:
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE((out / "ca.pem").stat().st_mode) == 0o644
    before = (out / "filter.password").read_bytes()
    with pytest.raises(ConfigError, match="already exists"):
        write_material(out, build_material(brokers=1, mirror_brokers=0, now=NOW))
    assert (out / "filter.password").read_bytes() == before
    write_material(out, build_material(brokers=1, mirror_brokers=0, now=NOW), force=True)
    assert (out / "filter.password").read_bytes() != before


def test_cli_init_then_refuse_without_force(tmp_path: Path) -> None:
    from vitrina.cli.main import app

    out = tmp_path / "kafka"
    runner = CliRunner()
    first = runner.invoke(app, ["security", "init", "--out", str(out), "--brokers", "2"])
    assert first.exit_code == 0, first.output
    assert (out / "kafka-2.keystore.pem").is_file() and not (out / "kafka-3.pem").exists()
    second = runner.invoke(app, ["security", "init", "--out", str(out)])
    assert second.exit_code == 1
    assert "--force" in second.output


def test_client_files_use_the_chosen_cluster_and_the_real_ca_path() -> None:
    files = {
        f.name: f.content.decode()
        for f in build_material(
            brokers=1,
            mirror_brokers=1,
            now=NOW,
            bootstrap="127.0.0.1:29092",
            mirror_bootstrap="127.0.0.1:29192",
            ca_path="/srv/vitrina/secrets/ca.pem",
        )
        if f.name.endswith(".properties")
    }
    for name, props in files.items():
        want = "127.0.0.1:29192" if name == "mirror-target.properties" else "127.0.0.1:29092"
        assert f"bootstrap.servers={want}\n" in props, name
        assert "ssl.truststore.location=/srv/vitrina/secrets/ca.pem\n" in props, name
        assert "/run/secrets" not in props and "kafka-1:9093" not in props


def test_cli_writes_real_paths_and_says_how_to_format_with_the_scram_users(tmp_path: Path) -> None:
    """Was: /run/secrets and kafka-N:9093 in every file, and a "next" hint without the
    SCRAM arguments a KRaft format needs."""
    from vitrina.cli.main import app

    out = tmp_path / "kafka"
    result = CliRunner().invoke(
        app,
        [
            "security",
            "init",
            "--out",
            str(out),
            "--brokers",
            "1",
            "--mirror-brokers",
            "0",
            "--bootstrap-servers",
            "broker-a:9093,broker-b:9093",
        ],
    )
    assert result.exit_code == 0, result.output
    props = (out / "filter.properties").read_text()
    assert "bootstrap.servers=broker-a:9093,broker-b:9093\n" in props
    assert f"ssl.truststore.location={(out / 'ca.pem').resolve()}\n" in props
    text = " ".join(result.output.split())
    assert f"xargs -a {out / 'kafka-storage-scram.args'} kafka-storage.sh format" in text
    assert "--cluster-id" in text and "acl apply" in text


def test_cli_defaults_to_the_native_cluster_of_cluster_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vitrina.cli.main import app
    from vitrina.cluster import topology

    monkeypatch.delenv("VITRINA__PROFILE", raising=False)
    out = tmp_path / "kafka"
    result = CliRunner().invoke(
        app, ["security", "init", "--out", str(out), "--brokers", "3", "--mirror-brokers", "1"]
    )
    assert result.exit_code == 0, result.output
    want = ",".join(f"127.0.0.1:{p.client}" for p in topology.Plan(tmp_path).primary_ports)
    assert f"bootstrap.servers={want}\n" in (out / "admin.properties").read_text()


def test_cluster_up_writes_client_files_for_its_own_clusters(tmp_path: Path) -> None:
    from vitrina.cluster import topology

    plan = topology.Plan(tmp_path)
    assert topology.ensure_secrets(plan)
    primary = ",".join(f"127.0.0.1:{p.client}" for p in plan.primary_ports)
    mirror = ",".join(f"127.0.0.1:{p.client}" for p in plan.mirror_ports)
    assert f"bootstrap.servers={primary}\n" in (plan.secrets / "filter.properties").read_text()
    target = (plan.secrets / "mirror-target.properties").read_text()
    assert f"bootstrap.servers={mirror}\n" in target
    assert f"ssl.truststore.location={(plan.secrets / 'ca.pem').resolve()}\n" in target

"""A local certificate authority and server certificates, as PEM (no I/O here).

Kafka 4 reads PEM key and trust stores directly (`ssl.keystore.type=PEM`), so there is no
JKS/PKCS12 step: each broker gets one PEM file holding its PKCS#8 key and certificate chain,
and every client trusts `ca.pem`. Time is injected so tests are deterministic.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ORGANISATION = "Pokupai Vygodno / Vitrina"
# 10 years for the CA, 2 years for leaf certificates: rotate leaves often, the CA rarely.
CA_VALIDITY = timedelta(days=3650)
LEAF_VALIDITY = timedelta(days=730)
# 5 minutes back-dating tolerates clock skew between the host that issues and the brokers.
SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Issued:
    """A key and its certificate (the CA's own or a leaf signed by it)."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        # Unencrypted PKCS#8: what Kafka's PEM keystore and OpenSearch accept without a
        # key password; the file itself is mode 0600 and never leaves the secrets folder.
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _new_key() -> ec.EllipticCurvePrivateKey:
    # P-256: supported by every JVM, OpenSSL and browser, and much faster to generate than RSA.
    return ec.generate_private_key(ec.SECP256R1())


def make_ca(now: datetime, common_name: str = "Vitrina local CA") -> Issued:
    """A self-signed CA that may sign leaf certificates only (path length 0)."""
    key = _new_key()
    subject = _name(common_name)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - SKEW)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(key, cert)


def _san(host_names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in host_names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def issue_server_cert(ca: Issued, common_name: str, host_names: list[str], now: datetime) -> Issued:
    """A leaf certificate for a broker (or OpenSearch node) with a SAN per host name.

    Extended key usage is serverAuth AND clientAuth: brokers and controllers authenticate to
    each other with these same certificates (mTLS on the controller and internal listeners).
    """
    key = _new_key()
    ca_ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - SKEW)
        .not_valid_after(now + LEAF_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(_san(host_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(key, cert)


def keystore_pem(leaf: Issued, ca: Issued) -> bytes:
    """Kafka's PEM keystore file: the private key followed by the certificate chain."""
    return leaf.key_pem + leaf.cert_pem + ca.cert_pem


def load_cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def load_ca(cert_pem: bytes, key_pem: bytes) -> Issued:
    """Re-load an existing CA (to issue a certificate for a new broker with the same CA)."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the CA key is not an EC key made by `vitrina security init`")
    return Issued(key, load_cert(cert_pem))

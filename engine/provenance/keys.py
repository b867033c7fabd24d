"""clipcrew's own certificate authority: made once, kept in the data folder (mode 0600).

C2PA readers need the end-entity certificate to carry the emailProtection extended key usage
(c2pa-rs accepts it under its default settings; the C2PA OID alone is refused unless every reader
is configured for it), so the signing certificate has exactly that. Readers that should trust
clipcrew's clips add `ca.pem` as a trust anchor (`clipcrew verify` does).
"""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography import x509

CA_FILE, CHAIN_FILE, KEY_FILE = "ca.pem", "chain.pem", "signer.key"
CA_YEARS, SIGNER_YEARS = 20, 5


@dataclass(frozen=True)
class OwnCa:
    ca: Path
    chain: Path
    key: Path


def own_ca(folder: Path) -> OwnCa:
    return OwnCa(ca=folder / CA_FILE, chain=folder / CHAIN_FILE, key=folder / KEY_FILE)


def ensure_own_ca(folder: Path, *, name: str = "clipcrew") -> OwnCa:
    """The CA in `folder`, made there first if missing. Safe when several workers start at
    once: the files are written to a fresh folder beside it that is then renamed into place,
    and whoever renames second uses the first one's."""
    paths = own_ca(folder)
    if paths.key.exists():
        return paths
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".c2pa-", dir=folder.parent))
    try:
        for file_name, data in _make(name).items():
            fd = os.open(scratch / file_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        try:
            os.rename(scratch, folder)
        except OSError:
            if not paths.key.exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return paths


def _make(name: str) -> dict[str, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def subject(common_name: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            ]
        )

    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(subject(f"{name} provenance CA"))
        .issuer_name(subject(f"{name} provenance CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject(f"{name} clip signer"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365 * SIGNER_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return {
        CA_FILE: ca.public_bytes(pem),
        CHAIN_FILE: cert.public_bytes(pem) + ca.public_bytes(pem),
        KEY_FILE: key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    }


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )

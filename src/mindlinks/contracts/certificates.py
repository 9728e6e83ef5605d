"""The platform's document-signing certificate: PAdES signatures on fully signed contracts.

Production configures a PKCS#12 file or a PEM key + certificate (+ chain) issued by a CA the
parties can trust (`MINDLINKS_CONTRACT_SIGNING_*`). Development generates, once per data
directory, a self-signed "Mind-Links Development CA" and a signing key it certifies, under
`<data dir>/keys/contracts-*`; `setup.production_problems` refuses that in production.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from mindlinks.platform.offload import run_cpu
from mindlinks.settings import Settings

CA_CERT = "contracts-ca.pem"
SIGNING_KEY = "contracts-signing.key"
SIGNING_CERT = "contracts-signing.pem"
FIELD_NAME = "MindLinksPlatformSignature"


def is_generated(settings: Settings) -> bool:
    """True when no certificate is configured (the development CA would be used)."""
    return not (
        settings.contract_signing_pkcs12_path
        or (settings.contract_signing_key_path and settings.contract_signing_cert_path)
    )


def _write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # another process won the race
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Mind-Links (development)"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def ensure_development_keys(keys_dir: Path) -> None:
    """Generate the development CA and signing key once (ECDSA P-256)."""
    if (keys_dir / SIGNING_CERT).exists():
        return
    now = datetime.now(UTC) - timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Mind-Links Development CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Mind-Links Contract Signing")).issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + timedelta(days=1825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    _write_private(keys_dir / CA_CERT, ca_cert.public_bytes(pem), 0o644)
    _write_private(keys_dir / SIGNING_KEY, key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    # Written last: its presence means the set is complete.
    _write_private(keys_dir / SIGNING_CERT, cert.public_bytes(pem), 0o644)


@dataclass(frozen=True)
class PlatformSigner:
    signer: signers.SimpleSigner
    trust_roots: tuple[asn1_x509.Certificate, ...]


def _pem_certs(path: Path) -> list[asn1_x509.Certificate]:
    certs = x509.load_pem_x509_certificates(path.read_bytes())
    return [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certs]


@lru_cache(maxsize=8)
def _load(settings_key: tuple[object, ...], keys_dir: Path) -> PlatformSigner:
    (p12, p12_password, key_path, key_password, cert_path, chain, roots) = settings_key
    signer: signers.SimpleSigner | None
    chain_certs = [c for p in chain for c in _pem_certs(Path(str(p)))]  # type: ignore[attr-defined]
    if p12:
        signer = signers.SimpleSigner.load_pkcs12(
            str(p12), other_certs=chain_certs or None,
            passphrase=str(p12_password).encode() if p12_password else None,
        )
    elif key_path and cert_path:
        signer = signers.SimpleSigner.load(
            str(key_path), str(cert_path), other_certs=chain_certs or None,
            key_passphrase=str(key_password).encode() if key_password else None,
        )
    else:
        ensure_development_keys(keys_dir)
        ca = _pem_certs(keys_dir / CA_CERT)
        signer = signers.SimpleSigner.load(
            str(keys_dir / SIGNING_KEY), str(keys_dir / SIGNING_CERT), other_certs=ca,
        )
        chain_certs = ca
    if signer is None:
        raise RuntimeError("the contract signing certificate could not be loaded")
    trust = [c for p in roots for c in _pem_certs(Path(str(p)))]  # type: ignore[attr-defined]
    if not trust:
        trust = chain_certs[-1:] or [signer.signing_cert]
    return PlatformSigner(signer, tuple(trust))


def platform_signer(settings: Settings) -> PlatformSigner:
    key = (
        settings.contract_signing_pkcs12_path, settings.contract_signing_pkcs12_password,
        settings.contract_signing_key_path, settings.contract_signing_key_password,
        settings.contract_signing_cert_path, tuple(settings.contract_signing_chain_paths),
        tuple(settings.contract_signing_trust_roots),
    )
    return _load(key, settings.keys_dir.resolve())


def _sign(platform: PlatformSigner, pdf: bytes, reason: str) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, reason=reason, name="Mind-Links",
        subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
    )
    # pyHanko's synchronous API runs its own short event loop: fine in a worker thread.
    out = signers.sign_pdf(writer, meta, signer=platform.signer)
    return bytes(out.getvalue())


async def sign_pdf(settings: Settings, pdf: bytes, *, reason: str) -> bytes:
    """A PAdES baseline (B-B) signature by the platform over the whole of `pdf` (parsing,
    hashing and writing the PDF run off the event loop)."""
    return await run_cpu(_sign, platform_signer(settings), pdf, reason)


async def pdf_signature_valid(settings: Settings, pdf: bytes) -> bool:
    """Is `pdf` signed by a certificate chaining to our trust roots, with the signature
    covering the whole file unchanged? (pyHanko's validator; no network fetching)."""
    return await run_cpu(_signature_valid, platform_signer(settings), pdf)


def _signature_valid(platform: PlatformSigner, pdf: bytes) -> bool:
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        signatures = reader.embedded_signatures
        if len(signatures) != 1:
            return False
        context = ValidationContext(trust_roots=list(platform.trust_roots), allow_fetching=False)
        status = validate_pdf_signature(signatures[0], context)
        return bool(status.bottom_line and status.coverage is not None
                    and status.coverage.name == "ENTIRE_FILE")
    except Exception:  # any failure to parse or validate means "not a valid signed PDF"
        return False

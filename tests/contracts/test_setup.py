"""The signing certificate: generated in development, refused in production, configurable."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from mindlinks.contracts import certificates, setup
from mindlinks.platform.pdf import PdfDocument
from mindlinks.settings import Settings


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path / "var", _env_file=None, **kw)  # type: ignore[arg-type]


def test_generated_certificate_is_a_production_problem(tmp_path: Path):
    problems = setup.production_problems(_settings(tmp_path))
    assert len(problems) == 1 and "CONTRACT_SIGNING" in problems[0]
    missing = setup.production_problems(_settings(
        tmp_path, contract_signing_pkcs12_path=tmp_path / "nope.p12"))
    assert missing and "does not exist" in missing[0]


async def test_a_configured_pkcs12_signs_and_validates(tmp_path: Path):
    dev = tmp_path / "dev-keys"
    certificates.ensure_development_keys(dev)
    from cryptography import x509

    key = serialization.load_pem_private_key((dev / certificates.SIGNING_KEY).read_bytes(), None)
    cert = x509.load_pem_x509_certificate((dev / certificates.SIGNING_CERT).read_bytes())
    ca = x509.load_pem_x509_certificate((dev / certificates.CA_CERT).read_bytes())
    p12 = tmp_path / "signing.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"signing", key, cert, [ca],  # type: ignore[arg-type]
        serialization.BestAvailableEncryption(b"s3cret")))
    settings = _settings(tmp_path, contract_signing_pkcs12_path=p12,
                         contract_signing_pkcs12_password="s3cret",
                         contract_signing_trust_roots=[dev / certificates.CA_CERT])
    assert setup.production_problems(settings) == []
    doc = PdfDocument("Test")
    doc.paragraph("Hello")
    signed = await certificates.sign_pdf(settings, doc.output(), reason="test")
    assert await certificates.pdf_signature_valid(settings, signed)
    # Another CA as the only trust root: the same PDF is not trusted.
    other = tmp_path / "other-keys"
    certificates.ensure_development_keys(other)
    untrusting = _settings(tmp_path, contract_signing_pkcs12_path=p12,
                           contract_signing_pkcs12_password="s3cret",
                           contract_signing_trust_roots=[other / certificates.CA_CERT])
    assert not await certificates.pdf_signature_valid(untrusting, signed)


def test_create_app_collects_the_contracts_check(tmp_path: Path):
    from mindlinks.app import _production_problems

    problems = _production_problems(_settings(tmp_path, env="production"))
    assert any("MINDLINKS_CONTRACT_SIGNING" in p for p in problems)

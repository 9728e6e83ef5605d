"""Start-up wiring of the contracts domain: who may read a contract's journal entries, and the
production check on the PDF signing certificate."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks.contracts import certificates, service
from mindlinks.ledger.service import register_entity_access
from mindlinks.settings import Settings


def production_problems(settings: Settings) -> list[str]:
    """The generated development CA must never sign contracts in production."""
    if certificates.is_generated(settings):
        return ["MINDLINKS_CONTRACT_SIGNING_PKCS12_PATH (or _KEY_PATH and _CERT_PATH) is not set "
                "(a generated self-signed certificate would sign contract PDFs)"]
    problems = []
    for label, path in (("PKCS12_PATH", settings.contract_signing_pkcs12_path),
                        ("KEY_PATH", settings.contract_signing_key_path),
                        ("CERT_PATH", settings.contract_signing_cert_path)):
        if path is not None and not path.exists():
            problems.append(f"MINDLINKS_CONTRACT_SIGNING_{label} does not exist: {path}")
    return problems


def install(app: FastAPI) -> None:
    register_entity_access("contract", service.is_party)

"""The invoice PDF: an Arabic name prints as Arabic text (shaped with the embedded font, not
folded to `?`), and the platform's PAdES signature validates with pyHanko - and stops
validating when a byte of the file changes."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import httpx
import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from mindlinks.contracts import service as contracts
from mindlinks.invoices.models import Invoice
from tests.invoices.conftest import issue_due

pytestmark = pytest.mark.usefixtures("db_backend")

ARABIC_NAME = "محمد العلي"


def _embedded_glyphs(pdf: bytes) -> set[str]:
    names: set[str] = set()
    fonts = PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"]
    for ref in fonts.values():
        font = ref.get_object()
        if "/DescendantFonts" not in font:
            continue
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        data = descriptor["/FontFile2"].get_object().get_data()
        names.update(TTFont(io.BytesIO(data)).getGlyphOrder())
    return names


async def _pdf(app: Any) -> bytes:
    async with app.state.db.session() as session:
        from sqlalchemy import select

        invoice = (await session.scalars(select(Invoice))).one()
    assert invoice.pdf_key is not None
    return await app.state.storage.get(invoice.pdf_key)  # type: ignore[no-any-return]


async def test_arabic_names_print_and_the_signature_validates(
    app: Any, client: httpx.AsyncClient, make_party: Any, active_fixed: Any, settings: Any
):
    party = await make_party(contractor_name=ARABIC_NAME, legal_name="شركة النور Zoë GmbH")
    await active_fixed(party)
    assert await issue_due(app, date(2026, 2, 1)) == 1
    pdf = await _pdf(app)

    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for word in ["محمد", "العلي", "شركة", "النور", "Zoë", "INV-2026-001", "5,000.00 USD"]:
        assert word in text, (word, text)
    assert "?" not in text
    # Shaped, not just mapped: محمد is drawn with its joined forms - initial meem, medial hah,
    # medial meem, final dal - which an unshaped run (isolated letters) would not use.
    assert {"uniFEE3", "uniFEA4", "uniFEE4", "uniFEAA"} <= _embedded_glyphs(pdf)

    assert await contracts.pdf_signature_valid(settings, pdf)
    tampered = pdf.replace(b"INV-2026-001", b"INV-2026-009", 1)
    flipped = bytearray(pdf)
    flipped[len(pdf) // 3] ^= 0x01
    assert not await contracts.pdf_signature_valid(settings, bytes(flipped))
    if tampered != pdf:
        assert not await contracts.pdf_signature_valid(settings, tampered)


def _font_names(pdf: bytes) -> set[str]:
    fonts = PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"]
    return {str(ref.get_object()["/BaseFont"]) for ref in fonts.values()}


def test_the_large_fallback_font_is_embedded_only_when_the_text_needs_it():
    from mindlinks.platform.pdf import PdfDocument

    def render(name: str) -> bytes:
        doc = PdfDocument("Invoice", unicode=True)
        doc.key_values([("From", name), ("Bill to", "Acme Widgets Ltd")])
        return doc.output()

    plain = _font_names(render(ARABIC_NAME + " Zoë"))
    assert not any("Noto" in name for name in plain), plain
    greek = render("Ωμέγα Ltd")
    assert any("Noto" in name for name in _font_names(greek)), _font_names(greek)
    assert "Ωμέγα" in PdfReader(io.BytesIO(greek)).pages[0].extract_text()

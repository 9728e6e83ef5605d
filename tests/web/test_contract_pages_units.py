"""The contract form's pure parts: the typed-name signature image and the form reading."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pydantic import ValidationError
from starlette.datastructures import FormData

from mindlinks.web import contract_forms


@pytest.mark.parametrize("name", ["Ada Lovelace", "ليلى أحمد", "Zoë Ångström-Øre"])
def test_a_typed_name_becomes_a_png_with_ink(name: str) -> None:
    image = Image.open(io.BytesIO(contract_forms.typed_png(name)))
    assert image.format == "PNG" and image.mode == "RGBA"
    assert image.getchannel("A").getbbox() is not None  # something was drawn
    assert image.width <= 1600


async def test_the_sign_form_prefers_the_drawing_and_bounds_the_name() -> None:
    drawn = await contract_forms.sign_request(FormData(
        {"signature": "data:image/png;base64,AAAA", "typed_name": "Ada"}))
    assert drawn.signature == "data:image/png;base64,AAAA"
    typed = await contract_forms.sign_request(FormData({"typed_name": "  Ada   Lovelace "}))
    assert typed.signature.startswith("data:image/png;base64,")
    for form in ({}, {"typed_name": "   "}, {"typed_name": "x" * 101}):
        with pytest.raises(ValueError):
            await contract_forms.sign_request(FormData(form))
    with pytest.raises(ValidationError):  # the API's own limit on the drawing
        await contract_forms.sign_request(FormData({"signature": "x" * 1_000_001}))


def test_the_form_reads_into_the_apis_body() -> None:
    values = contract_forms.posted(FormData({
        "contractor_id": "6527a42d-a674-41de-98ac-e5af313012a1",
        "template_id": "7ae1d6b3-0ac9-54b4-b4b2-631736c5bb12", "title": " Shop ",
        "type": "milestone", "rate": "3000", "currency": "usd", "frequency": "monthly",
        "start_date": "2026-01-01", "end_date": "", "terms": "One\n\n Two \n",
        "ms-title-0": "Design", "ms-amount-0": "1,000", "ms-title-3": "Later",
        "ms-amount-3": "2000"}))
    body = contract_forms.create_body(values)
    assert body.title == "Shop" and body.currency == "USD" and body.end_date is None
    assert body.terms == ["One", "Two"]
    assert [(m.title, str(m.amount)) for m in body.milestones or []] == [
        ("Design", "1000"), ("Later", "2000")]
    assert "contractor_id" not in contract_forms.update_body(values).model_fields_set
    assert len(contract_forms.rows(values)) == 5

"""The contract pages' form handling: the create/edit form read into the API's own request
models (`ContractCreate`, `ContractUpdate`), a contract read back into the form, and the
signature of the sign form (the drawn PNG, or the typed name drawn into one on the server).

Limits: every field is cut one character past the schema's maximum, so a too-long value is
refused by the schema (a form error) rather than silently shortened.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from starlette.datastructures import FormData

from mindlinks.contracts.schemas import Contract, ContractCreate, ContractUpdate, SignRequest
from mindlinks.platform.offload import run_cpu
from mindlinks.platform.pdf import unicode_fonts
from mindlinks.web.dash import text
from mindlinks.web.i18n import gettext

MILESTONE_ROWS = 20  # rows the form offers (the schema allows 100; the API takes more)
BLANK_ROWS = 3
FIELDS = {"contractor_id": 40, "template_id": 40, "title": 201, "description": 20_001,
          "type": 20, "rate": 24, "currency": 3, "frequency": 20, "start_date": 10,
          "end_date": 10, "terms": 110_000}
SIGNATURE_FIELD_LIMIT = 1_000_001  # SignRequest.signature allows 1,000,000 characters
TYPED_NAME_LIMIT = 100


def posted(form: FormData) -> dict[str, Any]:
    """The form's values as typed (shown again with the errors), milestone rows as a list."""
    values: dict[str, Any] = {name: text(form, name, limit).strip()
                              for name, limit in FIELDS.items()}
    values["currency"] = values["currency"].upper()
    values["milestones"] = [
        {"title": text(form, f"ms-title-{i}", 201).strip(),
         "amount": text(form, f"ms-amount-{i}", 24).strip().replace(",", ""),
         "due_date": text(form, f"ms-due-{i}", 10).strip()}
        for i in range(MILESTONE_ROWS)
    ]
    values["milestones"] = [m for m in values["milestones"] if any(m.values())]
    return values


def _body(values: dict[str, Any]) -> dict[str, Any]:
    """The JSON body the API would receive (camelCase; blank optional fields left out)."""
    terms = [line.strip() for line in values["terms"].splitlines() if line.strip()]
    body: dict[str, Any] = {
        "contractorId": values["contractor_id"], "templateId": values["template_id"],
        "title": values["title"], "description": values["description"],
        "type": values["type"], "rate": values["rate"] or None,
        "currency": values["currency"], "frequency": values["frequency"],
        "startDate": values["start_date"] or None, "endDate": values["end_date"] or None,
        "terms": terms,
        "milestones": [{"title": m["title"], "amount": m["amount"] or None,
                        "dueDate": m["due_date"] or None}
                       for m in values["milestones"]] or None,
    }
    return body


def create_body(values: dict[str, Any]) -> ContractCreate:
    """Raises pydantic's ValidationError, as the API would answer 422."""
    return ContractCreate.model_validate(_body(values))


def update_body(values: dict[str, Any]) -> ContractUpdate:
    """Every field of the form replaces the draft's (the contractor is fixed)."""
    body = _body(values)
    body.pop("contractorId")
    return ContractUpdate.model_validate(body)


def form_of_contract(contract: Contract) -> dict[str, Any]:
    """A draft read back into the edit form."""
    return {
        "contractor_id": str(contract.contractor_id), "template_id": str(contract.template_id),
        "title": contract.title, "description": contract.description,
        "type": "",  # from the template, unless the client picks one
        "rate": str(contract.rate), "currency": contract.currency,
        "frequency": contract.frequency, "start_date": contract.start_date.isoformat(),
        "end_date": contract.end_date.isoformat() if contract.end_date else "",
        "terms": "\n".join(contract.terms),
        "milestones": [{"title": m.title, "amount": str(m.amount),
                        "due_date": m.due_date.isoformat() if m.due_date else ""}
                       for m in contract.milestones],
    }


def rows(values: dict[str, Any]) -> list[dict[str, str]]:
    """The milestone rows to show: those filled in, then a few blank ones."""
    filled: list[dict[str, str]] = list(values.get("milestones") or [])[:MILESTONE_ROWS]
    blank = {"title": "", "amount": "", "due_date": ""}
    return filled + [blank] * min(BLANK_ROWS, MILESTONE_ROWS - len(filled))


# --- signatures -----------------------------------------------------------------------------


def typed_png(name: str) -> bytes:
    """The typed full name drawn as a signature image (the no-JavaScript way to sign): dark
    ink on a transparent background, in the PDFs' Unicode font (Latin and Arabic, shaped
    right to left by Raqm when Pillow has it). CPU work: called through `run_cpu`."""
    from PIL import Image, ImageDraw, ImageFont, features

    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    font = ImageFont.truetype(str(unicode_fonts()[0]), 44, layout_engine=layout)
    left, top, right, bottom = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox(
        (0, 0), name, font=font)
    width, height = min(int(right - left) + 32, 1600), int(bottom - top) + 32
    image = Image.new("RGBA", (max(width, 120), max(height, 60)), (255, 255, 255, 0))
    ImageDraw.Draw(image).text((16 - left, 16 - top), name, font=font, fill=(20, 30, 80, 255))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


async def sign_request(form: FormData) -> SignRequest:
    """The API's sign body from the form: the drawn signature (a `data:image/png;base64,` URL
    from the canvas) when there is one, else the typed name drawn on the server. The service
    then applies its own checks (a real PNG, the size limit). Raises ValueError when neither
    was given, pydantic's ValidationError for a too-long field."""
    drawn = text(form, "signature", SIGNATURE_FIELD_LIMIT).strip()
    if drawn:
        return SignRequest(signature=drawn)
    typed = " ".join(text(form, "typed_name", TYPED_NAME_LIMIT + 1).split())
    if not typed:
        raise ValueError(gettext("Draw your signature or type your full name."))
    if len(typed) > TYPED_NAME_LIMIT:
        raise ValueError(gettext("The typed name is too long (100 characters at most)."))
    png = await run_cpu(typed_png, typed)
    return SignRequest(signature="data:image/png;base64," + base64.b64encode(png).decode())

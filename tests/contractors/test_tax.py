"""Tax information: derived form type, W-8 expiry, encrypted and masked tax id, upload rules
with real files, admin review and its role checks, documents listing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from tests.contractors.conftest import SVG_WITH_SCRIPT, events_named, png
from tests.platform.samples import MINIMAL_PDF

URL = "/api/contractors/me/tax-info"


async def _submit(client, who, *, tax_id="A1234567", country="EG", form=("w8.pdf", MINIMAL_PDF),
                  **fields):
    return await client.post(URL, headers=who.headers,
                             data={"taxId": tax_id, "taxCountry": country, **fields},
                             files={"taxForm": (form[0], form[1], "application/pdf")})


def _local(url: str) -> str:
    return url.replace("http://127.0.0.1:8000", "")


async def test_w8ben_submission(client, app, contractor):
    r = await _submit(client, contractor, tax_id="29001011234567", country="Egypt")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["taxId"] == "****4567" and body["taxCountry"] == "EG"
    assert body["taxFormType"] == "W-8BEN" and body["status"] == "pending_review"
    year = datetime.now(UTC).year
    assert body["expiresAt"].startswith(f"{year + 3}-12-31T23:59:59")
    download = await client.get(_local(body["taxFormUrl"]))
    assert download.status_code == 200 and download.content == MINIMAL_PDF
    assert (await client.get(URL, headers=contractor.headers)).json()["id"] == body["id"]

    async with app.state.db.session() as session:
        raw = " ".join(str(v) for v in (await session.execute(
            text("SELECT * FROM contractor_tax_info"))).one())
    assert "29001011234567" not in raw and "ml1." in raw
    assert (await events_named(app, "contractor.tax_info.submitted"))


async def test_form_type_is_derived_and_checked(client, contractor):
    us = await _submit(client, contractor, tax_id="123-45-6789", country="US")
    assert us.status_code == 201 and us.json()["taxFormType"] == "W-9"
    assert us.json()["expiresAt"] is None and us.json()["taxId"] == "****6789"
    entity = await _submit(client, contractor, country="GB", entityType="entity")
    assert entity.json()["taxFormType"] == "W-8BEN-E"
    wrong = await _submit(client, contractor, country="GB", taxFormType="W-9")
    assert wrong.status_code == 422 and wrong.json()["code"] == "tax_form_mismatch"
    bad_ssn = await _submit(client, contractor, tax_id="12-345", country="US")
    assert bad_ssn.status_code == 422 and bad_ssn.json()["code"] == "invalid_tax_id"
    bad_country = await _submit(client, contractor, country="Atlantis")
    assert bad_country.status_code == 422 and bad_country.json()["code"] == "unknown_country"


async def test_upload_rules_with_real_files(client, contractor):
    cases = [
        (("form.png", MINIMAL_PDF.replace(b"%PDF", b"%PDX")), 422, "unsupported_file_type"),
        (("form.svg", SVG_WITH_SCRIPT), 422, "unsupported_file_type"),
        (("form.pdf", MINIMAL_PDF.replace(b"trailer", b"<script>x()</script>\ntrailer")), 422,
         "polyglot_file"),
        (("form.pdf", MINIMAL_PDF + b"%" * (10 * 1024 * 1024)), 413, "file_too_large"),
    ]
    for form, status, code in cases:
        r = await _submit(client, contractor, form=form)
        assert r.status_code == status, (form[0], r.text)
        assert r.json()["code"] == code
    assert (await client.get(URL, headers=contractor.headers)).status_code == 404
    docs = (await client.get("/api/contractors/me/documents", headers=contractor.headers)).json()
    assert docs["meta"]["total"] == 0


async def test_a_pdf_renamed_png_is_stored_as_pdf_and_a_png_is_accepted(client, contractor):
    renamed = await _submit(client, contractor, form=("scan.png", MINIMAL_PDF))
    assert renamed.status_code == 201
    url = renamed.json()["taxFormUrl"]
    assert url.split("?")[0].endswith(".pdf") and "name=scan.pdf" in url
    download = await client.get(_local(url))
    assert download.headers["content-type"] == "application/pdf"
    assert 'filename="scan.pdf"' in download.headers["content-disposition"]
    image = await _submit(client, contractor, form=("scan.png", png()))
    assert image.status_code == 201


async def test_path_traversal_name_never_reaches_the_key(client, app, contractor):
    r = await _submit(client, contractor, form=("../../../etc/passwd.pdf", MINIMAL_PDF))
    assert r.status_code == 201, r.text
    docs = (await client.get("/api/contractors/me/documents", headers=contractor.headers)).json()
    doc = docs["data"][0]
    assert doc["name"] == "passwd.pdf" and doc["type"] == "tax_form"
    assert doc["mimeType"] == "application/pdf" and doc["size"] == len(MINIMAL_PDF)
    async with app.state.db.session() as session:
        key = (await session.execute(text("SELECT storage_key FROM contractor_documents"))
               ).scalar_one()
    assert ".." not in key and "passwd" not in key and key.startswith("contractors/")
    assert "/tax/" in key and key.endswith(".pdf")
    assert (await client.get(_local(doc["downloadUrl"]))).content == MINIMAL_PDF


async def test_admin_review(client, app, contractor, admin, client_user):
    info = (await _submit(client, contractor)).json()
    path = f"/api/admin/tax-info/{info['id']}/review"
    for headers in (contractor.headers, client_user):
        r = await client.post(path, headers=headers, json={"decision": "approved"})
        assert r.status_code == 403
    no_reason = await client.post(path, headers=admin.headers, json={"decision": "rejected"})
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
    ok = await client.post(path, headers=admin.headers, json={"decision": "approved"})
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    assert ok.json()["reviewedAt"] and ok.json()["taxId"] == "****4567"
    again = await client.post(path, headers=admin.headers, json={"decision": "rejected",
                                                         "reason": "blurry"})
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    missing = await client.post("/api/admin/tax-info/00000000-0000-0000-0000-000000000000/review",
                                headers=admin.headers, json={"decision": "approved"})
    assert missing.status_code == 404
    mine = (await client.get(URL, headers=contractor.headers)).json()
    assert mine["status"] == "approved"
    assert (await events_named(app, "contractor.tax_info.reviewed"))[0]["decision"] == "approved"


async def test_rejection_shows_the_reason(client, contractor, admin):
    info = (await _submit(client, contractor)).json()
    r = await client.post(f"/api/admin/tax-info/{info['id']}/review", headers=admin.headers,
                          json={"decision": "rejected", "reason": "Signature missing"})
    assert r.json()["status"] == "rejected" and r.json()["reviewReason"] == "Signature missing"


async def test_another_contractor_sees_no_tax_info_or_documents(client, contractor, other):
    await _submit(client, contractor)
    assert (await client.get(URL, headers=other.headers)).status_code == 404
    docs = (await client.get("/api/contractors/me/documents", headers=other.headers)).json()
    assert docs == {"data": [], "meta": {"total": 0, "page": 1, "limit": 20, "totalPages": 0}}

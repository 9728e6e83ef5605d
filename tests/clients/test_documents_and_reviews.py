"""Company documents (upload rules, signed downloads, tenant scoping) and the admin reviews
of companies and documents (transitions, reasons, roles)."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from tests.clients.conftest import VERIFIED_COMPANY
from tests.factories import Account
from tests.platform.samples import MINIMAL_PDF

DOCUMENT_FIELDS = {
    "id", "clientId", "type", "name", "mimeType", "size", "status", "reviewReason",
    "reviewedBy", "reviewedAt", "downloadUrl", "expiresAt", "createdAt", "updatedAt",
}

SVG_WITH_SCRIPT = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
                   b'<script>alert(document.cookie)</script></svg>')


def _png(size: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (20, 120, 200)).save(out, format="PNG")
    return out.getvalue()


async def _upload(client: Any, account: Any, content: bytes, filename: str,
                  type_: str = "incorporation_certificate",
                  content_type: str = "application/pdf") -> Any:
    return await client.post(
        "/api/clients/me/documents", headers=account.headers, data={"type": type_},
        files={"file": (filename, content, content_type)},
    )


async def _download(client: Any, url: str) -> Any:
    parts = urlsplit(url)
    return await client.get(f"{parts.path}?{parts.query}")


async def test_upload_and_download_a_document(client: Any, pending_client: Any) -> None:
    account, company = pending_client
    response = await _upload(client, account, MINIMAL_PDF, "certificate.pdf")
    assert response.status_code == 201, response.text
    document = response.json()
    assert set(document) == DOCUMENT_FIELDS
    assert document["status"] == "pending"
    assert document["clientId"] == company["id"]
    assert document["mimeType"] == "application/pdf"
    assert document["size"] == len(MINIMAL_PDF)
    assert document["name"] == "certificate.pdf"
    assert document["reviewedBy"] is None
    assert f"/files/clients/{company['id']}/documents/" in document["downloadUrl"]
    fetched = await _download(client, document["downloadUrl"])
    assert fetched.status_code == 200
    assert fetched.content == MINIMAL_PDF
    assert fetched.headers["content-disposition"].startswith("attachment")

    listed = await client.get("/api/clients/me/documents", headers=account.headers)
    assert listed.status_code == 200
    assert listed.json()["meta"] == {"total": 1, "page": 1, "limit": 20, "totalPages": 1}
    assert listed.json()["data"][0]["id"] == document["id"]
    one = await client.get(f"/api/clients/me/documents/{document['id']}",
                           headers=account.headers)
    assert one.status_code == 200


async def test_pdf_named_png_is_stored_as_pdf(client: Any, pending_client: Any) -> None:
    account, _ = pending_client
    response = await _upload(client, account, MINIMAL_PDF, "scan.png", content_type="image/png")
    assert response.status_code == 201
    assert response.json()["mimeType"] == "application/pdf"
    assert urlsplit(response.json()["downloadUrl"]).path.endswith(".pdf")


async def test_svg_with_script_is_refused(client: Any, pending_client: Any) -> None:
    account, _ = pending_client
    response = await _upload(client, account, SVG_WITH_SCRIPT, "logo.pdf")
    assert response.status_code == 422
    assert response.json()["code"] == "unsupported_file_type"
    listed = await client.get("/api/clients/me/documents", headers=account.headers)
    assert listed.json()["meta"]["total"] == 0


async def test_oversized_document_is_refused(client: Any, pending_client: Any) -> None:
    account, _ = pending_client
    big = MINIMAL_PDF + b"0" * (10 * 1024 * 1024)
    response = await _upload(client, account, big, "big.pdf")
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"


async def test_path_traversal_name_is_sanitised(client: Any, pending_client: Any) -> None:
    account, company = pending_client
    response = await _upload(client, account, MINIMAL_PDF, "../../etc/passwd\x00.pdf")
    assert response.status_code == 201
    document = response.json()
    assert "/" not in document["name"] and "\x00" not in document["name"]
    assert ".." not in urlsplit(document["downloadUrl"]).path
    assert urlsplit(document["downloadUrl"]).path.startswith(
        f"/files/clients/{company['id']}/documents/"
    )


async def test_unknown_document_type_is_422(client: Any, pending_client: Any) -> None:
    account, _ = pending_client
    response = await _upload(client, account, MINIMAL_PDF, "x.pdf", type_="selfie")
    assert response.status_code == 422


async def test_another_clients_document_is_404(
    client: Any, pending_client: Any, make_client: Any, contractor: Any
) -> None:
    account, _ = pending_client
    document = (await _upload(client, account, MINIMAL_PDF, "c.pdf")).json()
    other, _ = await make_client(VERIFIED_COMPANY)
    response = await client.get(f"/api/clients/me/documents/{document['id']}",
                                headers=other.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "document_not_found"
    assert (await client.get("/api/clients/me/documents", headers=other.headers)
            ).json()["meta"]["total"] == 0
    as_contractor = await client.get(f"/api/clients/me/documents/{document['id']}",
                                     headers=contractor.headers)
    assert as_contractor.status_code == 403


async def test_logo_shows_on_the_invitation(
    client: Any, verified_client: Any, invite: Any
) -> None:
    account, _ = verified_client
    logo = await client.post("/api/clients/me/logo", headers=account.headers,
                             files={"file": ("logo.png", _png(), "image/png")})
    assert logo.status_code == 200, logo.text
    assert set(logo.json()) == {"logoUrl", "expiresAt"}
    fetched = await _download(client, logo.json()["logoUrl"])
    assert fetched.status_code == 200
    assert fetched.content[:4] == b"RIFF"  # re-encoded, never the uploaded bytes
    _, token = await invite(account, "logo-test@example.com")
    view = await client.get(f"/api/invitations/{token}")
    assert view.json()["companyLogoUrl"] is not None
    me = await client.get("/api/clients/me", headers=account.headers)
    assert me.json()["logoUrl"] is not None


# --- admin reviews --------------------------------------------------------------------------


async def test_admin_verifies_a_pending_company(
    client: Any, pending_client: Any, admin: Account
) -> None:
    account, company = pending_client
    queue = await client.get("/api/admin/companies?verificationStatus=pending",
                             headers=admin.headers)
    assert queue.status_code == 200
    assert [c["id"] for c in queue.json()["data"]] == [company["id"]]
    one = await client.get(f"/api/admin/companies/{company['id']}", headers=admin.headers)
    assert one.status_code == 200
    assert one.json()["taxId"] == "****4321"

    reviewed = await client.post(f"/api/admin/companies/{company['id']}/review",
                                 headers=admin.headers, json={"decision": "approve"})
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["verificationStatus"] == "verified"
    assert reviewed.json()["verifiedAt"] is not None
    # Now the company may invite.
    invite = await client.post("/api/clients/me/invitations", headers=account.headers,
                               json={"email": "after-review@example.com"})
    assert invite.status_code == 201
    again = await client.post(f"/api/admin/companies/{company['id']}/review",
                              headers=admin.headers,
                              json={"decision": "reject", "reason": "changed my mind"})
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"
    queue = await client.get("/api/admin/companies?verificationStatus=pending",
                             headers=admin.headers)
    assert queue.json()["meta"]["total"] == 0


async def test_rejection_needs_a_reason(client: Any, pending_client: Any,
                                        admin: Account) -> None:
    account, company = pending_client
    url = f"/api/admin/companies/{company['id']}/review"
    bare = await client.post(url, headers=admin.headers, json={"decision": "reject"})
    assert bare.status_code == 422
    assert bare.json()["code"] == "reason_required"
    rejected = await client.post(url, headers=admin.headers,
                                 json={"decision": "reject", "reason": "Registry mismatch"})
    assert rejected.status_code == 200
    assert rejected.json()["verificationStatus"] == "rejected"
    me = await client.get("/api/clients/me", headers=account.headers)
    assert me.json()["verificationReason"] == "Registry mismatch"
    bad = await client.post(url, headers=admin.headers, json={"decision": "maybe"})
    assert bad.status_code == 422


async def test_review_of_unknown_company_is_404(client: Any, admin: Account) -> None:
    response = await client.post(
        "/api/admin/companies/00000000-0000-4000-8000-000000000000/review",
        headers=admin.headers, json={"decision": "approve"},
    )
    assert response.status_code == 404


async def test_admin_reviews_a_document(client: Any, pending_client: Any,
                                        admin: Account) -> None:
    account, company = pending_client
    document = (await _upload(client, account, MINIMAL_PDF, "c.pdf")).json()
    listed = await client.get(f"/api/admin/companies/{company['id']}/documents",
                              headers=admin.headers)
    assert [d["id"] for d in listed.json()["data"]] == [document["id"]]
    url = f"/api/admin/client-documents/{document['id']}/review"
    approved = await client.post(url, headers=admin.headers, json={"decision": "approve"})
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "approved"
    me = await client.get("/api/auth/me", headers=admin.headers)
    assert body["reviewedBy"] == me.json()["id"]
    assert body["reviewedAt"] is not None
    again = await client.post(url, headers=admin.headers, json={"decision": "approve"})
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"
    seen = await client.get(f"/api/clients/me/documents/{document['id']}",
                            headers=account.headers)
    assert seen.json()["status"] == "approved"


async def test_admin_routes_refuse_clients_and_contractors(
    client: Any, pending_client: Any, contractor: Any
) -> None:
    account, company = pending_client
    document = (await _upload(client, account, MINIMAL_PDF, "c.pdf")).json()
    calls = [
        ("post", f"/api/admin/companies/{company['id']}/review", {"decision": "approve"}),
        ("post", f"/api/admin/client-documents/{document['id']}/review",
         {"decision": "approve"}),
        ("get", "/api/admin/companies", None),
        ("get", f"/api/admin/companies/{company['id']}", None),
        ("get", f"/api/admin/companies/{company['id']}/documents", None),
    ]
    for user in (account, contractor):
        for method, url, body in calls:
            kwargs: dict[str, Any] = {"headers": user.headers}
            if body is not None:
                kwargs["json"] = body
            response = await getattr(client, method)(url, **kwargs)
            assert response.status_code == 403, (url, response.text)
            assert response.json()["code"] == "forbidden_role"
    me = await client.get("/api/clients/me", headers=account.headers)
    assert me.json()["verificationStatus"] == "pending"

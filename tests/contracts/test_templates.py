"""Contract templates: seeded defaults, admin CRUD, the client listing, strict rendering."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mindlinks.contracts import templates
from tests.factories import Account

pytestmark = pytest.mark.usefixtures("db_backend")


async def test_a_default_template_per_type_and_model(client: httpx.AsyncClient, party: Any):
    response = await client.get("/api/contract-templates", params={"limit": 100},
                                headers=party.client.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    defaults = {(t["type"], t["model"]) for t in body["data"] if t["isDefault"]}
    assert defaults == {(t, m) for t in ("fixed", "hourly", "milestone")
                        for m in ("direct", "eor")}
    assert body["meta"]["total"] == 6
    first = body["data"][0]
    assert set(first) >= {"id", "name", "type", "model", "templateContent", "variables",
                          "isDefault", "createdAt", "updatedAt"}


async def test_clients_filter_by_type_and_model(client: httpx.AsyncClient, party: Any):
    response = await client.get("/api/contract-templates",
                                params={"type": "milestone", "model": "eor"},
                                headers=party.client.headers)
    data = response.json()["data"]
    assert len(data) == 1 and data[0]["type"] == "milestone" and data[0]["model"] == "eor"
    assert "milestones" in data[0]["variables"]
    bad = await client.get("/api/contract-templates", params={"type": "weekly"},
                           headers=party.client.headers)
    assert bad.status_code == 422


async def test_contractors_cannot_list_templates(client: httpx.AsyncClient, party: Any):
    response = await client.get("/api/contract-templates", headers=party.contractor.headers)
    assert response.status_code == 403


async def test_admin_crud_and_default_replacement(
    client: httpx.AsyncClient, admin: Account, party: Any
):
    h = admin.headers
    created = await client.post("/api/admin/contract-templates", headers=h, json={
        "name": "Short fixed", "type": "fixed", "model": "direct", "isDefault": True,
        "templateContent": "# {{ contract_title }}\n\n{{ client_name }} pays {{ rate }}.",
    })
    assert created.status_code == 201, created.text
    tpl = created.json()
    assert tpl["variables"] == ["client_name", "contract_title", "rate"]
    listed = await client.get("/api/admin/contract-templates",
                              params={"type": "fixed", "model": "direct"}, headers=h)
    defaults = [t["id"] for t in listed.json()["data"] if t["isDefault"]]
    assert defaults == [tpl["id"]]  # the seeded default was demoted

    updated = await client.put(f"/api/admin/contract-templates/{tpl['id']}", headers=h,
                               json={"name": "Shorter fixed"})
    assert updated.status_code == 200 and updated.json()["name"] == "Shorter fixed"
    deleted = await client.delete(f"/api/admin/contract-templates/{tpl['id']}", headers=h)
    assert deleted.status_code == 204
    gone = await client.get(f"/api/admin/contract-templates/{tpl['id']}", headers=h)
    assert gone.status_code == 404 and gone.json()["code"] == "template_not_found"


async def test_unknown_variables_and_bad_syntax_are_refused(
    client: httpx.AsyncClient, admin: Account
):
    h = admin.headers
    base = {"name": "x", "type": "hourly", "model": "eor"}
    unknown = await client.post("/api/admin/contract-templates", headers=h, json={
        **base, "templateContent": "Pay {{ rate }} to {{ bank_account }}"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_template_variable"
    undeclared = await client.post("/api/admin/contract-templates", headers=h, json={
        **base, "templateContent": "{{ rate }} {{ currency }}", "variables": ["rate"]})
    assert undeclared.status_code == 422
    assert undeclared.json()["code"] == "unknown_template_variable"
    broken = await client.post("/api/admin/contract-templates", headers=h, json={
        **base, "templateContent": "{% for x in terms %}"})
    assert broken.status_code == 422 and broken.json()["code"] == "invalid_template"


async def test_non_admins_cannot_manage_templates(client: httpx.AsyncClient, party: Any):
    response = await client.post("/api/admin/contract-templates", headers=party.client.headers,
                                 json={"name": "x", "type": "fixed", "model": "direct",
                                       "templateContent": "{{ rate }}"})
    assert response.status_code == 403


def test_rendering_is_sandboxed_and_strict():
    assert templates.render("{{ rate }} {{ currency }}", {"rate": "5", "currency": "USD"}) == \
        "5 USD"
    with pytest.raises(templates.MissingTemplateVariable):
        templates.render("{{ rate }} {{ currency }}", {"rate": "5"})
    with pytest.raises(templates.MissingTemplateVariable):
        templates.render("{{ milestones[0].nope }}", {"milestones": [{"title": "a"}]})
    with pytest.raises(templates.InvalidTemplate):  # sandbox: no access to internals
        templates.render("{{ terms.__class__.__mro__ }}", {"terms": []})

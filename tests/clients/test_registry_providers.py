"""Business registry providers: the matching rule, the sandbox registry and the OpenCorporates
adapter against recorded API responses (respx), including its failure modes.

The recordings in `recordings/` follow the OpenCorporates v0.4 response format
(`{"api_version", "results": {"company": {...}}}` / `{"results": {"companies": [...]}}`)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from mindlinks.clients.providers import (
    OpenCorporatesRegistry,
    RegistryUnavailable,
    SandboxRegistry,
    check_company,
    jurisdiction_for,
    normalize_name,
    registry_from_settings,
)
from mindlinks.settings import Settings
from tests.clients.conftest import VERIFIED_COMPANY

RECORDINGS = Path(__file__).parent / "recordings"
BASE = "https://api.opencorporates.test/v0.4"


def recording(name: str) -> Any:
    return json.loads((RECORDINGS / name).read_text())


def barclays_with_officers() -> dict[str, Any]:
    """The recorded company answer, with the `officers` list OpenCorporates adds when it has
    them (the recording has none): one current director, one who resigned."""
    answer = copy.deepcopy(recording("opencorporates_company_gb_00102498.json"))
    answer["results"]["company"]["officers"] = [
        {"officer": {"id": 1, "name": "HOPPER, Grace", "position": "director",
                     "end_date": None}},
        {"officer": {"id": 2, "name": "Alan TURING", "position": "director",
                     "end_date": "2019-01-31"}},
    ]
    return answer


def registry() -> OpenCorporatesRegistry:
    return OpenCorporatesRegistry(api_token="test-token", base_url=BASE, timeout=2)


def test_names_compare_without_case_accents_punctuation_or_legal_form_spelling() -> None:
    assert normalize_name("ACME WIDGETS LIMITED") == normalize_name("Acme Widgets Ltd.")
    assert normalize_name("Exemple Conseil S.A.S.") == normalize_name("exemple conseil SAS")
    assert normalize_name("Société Générale") == normalize_name("SOCIETE GENERALE")
    assert normalize_name("Acme Widgets Ltd") != normalize_name("Acme Gadgets Ltd")


def test_jurisdiction_codes() -> None:
    assert jurisdiction_for("GB") == "gb"
    assert jurisdiction_for("US", "DE") == "us_de"
    assert jurisdiction_for("US", None) == "us"
    assert jurisdiction_for("CA", "bc") == "ca_bc"
    assert jurisdiction_for("DE", "Bayern") == "de"  # not a subdivided registry
    assert jurisdiction_for("US", "Delaware!") == "us"


async def test_sandbox_is_deterministic() -> None:
    sandbox = SandboxRegistry()
    hit = await check_company(sandbox, legal_name="acme widgets limited", jurisdiction="gb",
                              company_number="000 000 01")
    assert hit.status == "matched"
    assert hit.company is not None and hit.company.company_number == "00000001"
    assert (await check_company(sandbox, legal_name="Acme Widgets Ltd", jurisdiction="de",
                                company_number="00000001")).status == "not_found"
    assert (await check_company(sandbox, legal_name="Acme Corporation", jurisdiction="us",
                                company_number=None)).status == "matched"
    assert (await check_company(sandbox, legal_name="Unknown Ltd", jurisdiction="gb",
                                company_number=None)).status == "not_found"


@respx.mock(assert_all_called=True)
async def test_opencorporates_company_by_number(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(f"{BASE}/companies/gb/00102498").mock(
        return_value=httpx.Response(200, json=recording("opencorporates_company_gb_00102498.json"))
    )
    result = await check_company(registry(), legal_name="Barclays Bank PLC", jurisdiction="gb",
                                 company_number="00102498")
    assert result.status == "matched"
    company = result.company
    assert company is not None
    assert company.as_data() == {
        "companyNumber": "00102498",
        "name": "BARCLAYS BANK PLC",
        "jurisdiction": "gb",
        "currentStatus": "Active",
        "active": True,
        "companyType": "Public Limited Company",
        "incorporationDate": "1896-07-20",
        "dissolutionDate": None,
        "registeredAddress": "1 Churchill Place, London, E14 5HP",
        "registryUrl": "https://opencorporates.com/companies/gb/00102498",
        "source": "opencorporates",
    }
    assert route.calls.last.request.url.params["api_token"] == "test-token"


@respx.mock(assert_all_called=True)
async def test_opencorporates_search_needs_one_exact_name(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(f"{BASE}/companies/search").mock(
        return_value=httpx.Response(200, json=recording("opencorporates_search_bover.json"))
    )
    result = await check_company(registry(), legal_name="BOVER BV", jurisdiction="nl",
                                 company_number=None)
    assert result.status == "matched"
    assert result.company is not None
    assert result.company.company_number == "17087985"
    # The address is assembled from its parts when the full form is missing.
    assert result.company.registered_address == "Keizersgracht 1, Amsterdam, 1015 CJ, Netherlands"
    params = route.calls.last.request.url.params
    assert params["q"] == "BOVER BV"
    assert params["jurisdiction_code"] == "nl"

    dissolved = await check_company(registry(), legal_name="Bover Holding B.V.",
                                    jurisdiction="nl", company_number=None)
    assert dissolved.status == "inactive"
    none = await check_company(registry(), legal_name="Bover Trading B.V.", jurisdiction="nl",
                               company_number=None)
    assert none.status == "not_found"


@respx.mock(assert_all_called=True)
async def test_opencorporates_searches_a_whole_country(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(f"{BASE}/companies/search").mock(
        return_value=httpx.Response(200, json={"api_version": "0.4", "results": {
            "companies": [], "page": 1, "per_page": 30, "total_pages": 0, "total_count": 0}})
    )
    result = await check_company(registry(), legal_name="Acme Corporation", jurisdiction="us",
                                 company_number=None)
    assert result.status == "not_found"
    params = route.calls.last.request.url.params
    assert params["country_code"] == "us"
    assert "jurisdiction_code" not in params


@respx.mock(assert_all_called=True)
async def test_opencorporates_unknown_number_is_not_found(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/companies/gb/99999999").mock(
        return_value=httpx.Response(404, json=recording("opencorporates_not_found.json"))
    )
    result = await check_company(registry(), legal_name="Barclays Bank PLC", jurisdiction="gb",
                                 company_number="99999999")
    assert result.status == "not_found"
    assert result.company is None


@pytest.mark.parametrize("response", [
    httpx.Response(401, json=recording("opencorporates_invalid_token.json")),
    httpx.Response(403, json={"error": {"message": "Usage limits exceeded"}}),
    httpx.Response(503, text="<html>maintenance</html>"),
    httpx.Response(200, text="not json"),
    httpx.Response(200, json={"api_version": "0.4"}),
])
async def test_opencorporates_failures_are_unavailable(response: httpx.Response) -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{BASE}/companies/gb/00102498").mock(return_value=response)
        with pytest.raises(RegistryUnavailable):
            await check_company(registry(), legal_name="Barclays Bank PLC", jurisdiction="gb",
                                company_number="00102498")


async def test_opencorporates_timeout_is_unavailable() -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{BASE}/companies/search").mock(side_effect=httpx.ConnectTimeout("slow"))
        with pytest.raises(RegistryUnavailable):
            await registry().search("gb", "Barclays")


def test_registry_chosen_by_settings() -> None:
    sandbox = registry_from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert isinstance(sandbox, SandboxRegistry)
    real = registry_from_settings(Settings(  # type: ignore[call-arg]
        _env_file=None, business_registry="opencorporates", opencorporates_api_token="t"
    ))
    assert isinstance(real, OpenCorporatesRegistry)
    assert real.api_token == "t"


async def test_company_verified_through_opencorporates(app: Any, make_client: Any) -> None:
    app.state.business_registry = registry()
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{BASE}/companies/gb/00102498").mock(
            return_value=httpx.Response(200, json=barclays_with_officers())
        )
        _, company = await make_client({**VERIFIED_COMPANY, "legalName": "Barclays Bank PLC",
                                        "companyNumber": "00102498"})
    assert company["verificationStatus"] == "verified"  # the account is a current officer
    assert company["businessRegistryData"]["source"] == "opencorporates"
    assert company["businessRegistryData"]["registeredAddress"].startswith("1 Churchill Place")


async def test_opencorporates_outage_leaves_company_pending(app: Any, make_client: Any) -> None:
    app.state.business_registry = registry()
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{BASE}/companies/gb/00102498").mock(return_value=httpx.Response(500))
        _, company = await make_client({**VERIFIED_COMPANY, "legalName": "Barclays Bank PLC",
                                        "companyNumber": "00102498"})
    assert company["verificationStatus"] == "pending"
    assert company["registryStatus"] == "unavailable"

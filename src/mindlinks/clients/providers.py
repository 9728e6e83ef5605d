"""Business registry lookups: a `BusinessRegistry` Protocol, a deterministic sandbox registry and
an OpenCorporates (API v0.4) adapter.

`check_company` holds the one matching rule both use: with a company number, the registry's
record for that number must carry the same legal name; without one, a name search must find
exactly one company of that name in the jurisdiction. A record that is dissolved or otherwise
inactive is reported as `inactive`, never as a match. A registry that cannot be reached raises
`RegistryUnavailable`: the company then waits for an administrator, it is never verified by
default.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import httpx
import structlog

from mindlinks.settings import Settings

log = structlog.get_logger("mindlinks.clients.registry")

# Countries whose registries are kept per state or province (OpenCorporates `us_de`, `ca_on`).
_SUBDIVIDED = {"US", "CA", "AU"}


@dataclass(frozen=True)
class RegistryCompany:
    """A company as a registry records it (the company's `businessRegistryData`)."""

    company_number: str
    name: str
    jurisdiction: str
    current_status: str | None
    active: bool
    company_type: str | None = None
    incorporation_date: str | None = None
    dissolution_date: str | None = None
    registered_address: str | None = None
    registry_url: str | None = None
    source: str = "sandbox"
    # What the registry offers to tie an account to the company (not stored, not shown):
    # current officers' names (OpenCorporates, sandbox) and registered e-mail domains (sandbox).
    officers: tuple[str, ...] = ()
    email_domains: tuple[str, ...] = ()

    def as_data(self) -> dict[str, Any]:
        """camelCase, JSON-able: what is stored and shown as `businessRegistryData`."""
        data = asdict(self)
        return {
            "companyNumber": data["company_number"],
            "name": data["name"],
            "jurisdiction": data["jurisdiction"],
            "currentStatus": data["current_status"],
            "active": data["active"],
            "companyType": data["company_type"],
            "incorporationDate": data["incorporation_date"],
            "dissolutionDate": data["dissolution_date"],
            "registeredAddress": data["registered_address"],
            "registryUrl": data["registry_url"],
            "source": data["source"],
        }


@dataclass(frozen=True)
class RegistryCheck:
    status: str  # "matched" | "not_found" | "inactive" (clients.models.RegistryStatus)
    company: RegistryCompany | None = None


class RegistryUnavailable(Exception):
    """The registry could not answer (network, timeout, credentials, quota, 5xx)."""


class BusinessRegistry(Protocol):
    name: str

    async def get_company(self, jurisdiction: str, company_number: str) -> RegistryCompany | None:
        """The company with that number in that jurisdiction, or None."""
        ...

    async def search(self, jurisdiction: str, name: str) -> list[RegistryCompany]:
        """Companies in `jurisdiction` whose name matches `name` (registry's own matching)."""
        ...


def jurisdiction_for(country: str, region: str | None = None) -> str:
    """OpenCorporates jurisdiction code: `gb`, `de`; `us_de` where registries are per state."""
    country = country.lower()
    if country.upper() in _SUBDIVIDED and region and re.fullmatch(r"[A-Za-z]{2,3}", region):
        return f"{country}_{region.lower()}"
    return country


_SUFFIXES = {
    "limited": "ltd", "incorporated": "inc", "corporation": "corp", "company": "co",
    "l.l.c.": "llc", "p.l.c.": "plc", "public limited company": "plc",
    "gesellschaft mit beschrankter haftung": "gmbh", "besloten vennootschap": "bv",
    "b.v.": "bv", "s.a.": "sa", "s.a.s.": "sas", "private": "pvt",
}


def normalize_name(name: str) -> str:
    """Case, accents, punctuation and common legal-form spellings do not tell names apart."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold().strip()
    for long, short in _SUFFIXES.items():
        text = re.sub(rf"(?<![\w.]){re.escape(long)}(?![\w])", short, text)
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def _number_key(number: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", number).upper()


async def check_company(
    registry: BusinessRegistry, *, legal_name: str, jurisdiction: str,
    company_number: str | None,
) -> RegistryCheck:
    """Look the company up; raises `RegistryUnavailable` when the registry cannot answer."""
    wanted = normalize_name(legal_name)
    found: RegistryCompany | None = None
    if company_number:
        record = await registry.get_company(jurisdiction, company_number)
        if record is not None and normalize_name(record.name) == wanted:
            found = record
    else:
        same_name = [c for c in await registry.search(jurisdiction, legal_name)
                     if normalize_name(c.name) == wanted]
        # Two companies of the same name: the registry cannot tell which one this is.
        if len(same_name) == 1:
            found = same_name[0]
    if found is None:
        return RegistryCheck("not_found")
    return RegistryCheck("matched" if found.active else "inactive", found)


def ownership_evidence(
    company: RegistryCompany, *, email: str, email_verified: bool, name: str | None
) -> str | None:
    """What ties the claiming account to the registry's company, or None.

    `email_domain`: the account's e-mail address - verified, so the claimant controls it - is
    at one of the company's registered domains (or a subdomain). `officer`: the account's
    name is one of the company's current officers (case, accents and spacing ignored).
    """
    domain = email.rpartition("@")[2].lower().rstrip(".")
    if email_verified and domain and any(
        domain == d.lower() or domain.endswith("." + d.lower()) for d in company.email_domains
    ):
        return "email_domain"
    wanted = normalize_person(name or "")
    if wanted and any(normalize_person(o) == wanted for o in company.officers):
        return "officer"
    return None


def normalize_person(name: str) -> str:
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    # Registries often list "SURNAME, Given": compare the set of name parts.
    return " ".join(sorted(re.sub(r"[^\w\s]", " ", text).split()))


def registry_key(company: RegistryCompany) -> str:
    """One registry entry, however its number was typed: `gb:00000001`."""
    return f"{company.jurisdiction.lower()}:{_number_key(company.company_number)}"[:120]


# --- sandbox --------------------------------------------------------------------------------


def _sandbox(number: str, name: str, jurisdiction: str, company_type: str, incorporated: str,
             address: str, *, status: str = "Active", dissolved: str | None = None,
             officers: tuple[str, ...] = ("Grace Hopper",),
             domains: tuple[str, ...] | None = None) -> RegistryCompany:
    # Every sandbox company lists "Grace Hopper" as an officer (the name the demo and test
    # client accounts use) and `<name>.example` as its e-mail domain.
    domain = re.sub(r"[^a-z0-9]+", "-", normalize_name(name)).strip("-") + ".example"
    return RegistryCompany(
        company_number=number, name=name, jurisdiction=jurisdiction, current_status=status,
        active=dissolved is None, company_type=company_type, incorporation_date=incorporated,
        dissolution_date=dissolved, registered_address=address,
        registry_url=f"https://registry.sandbox.mindlinks.dev/{jurisdiction}/{number}",
        source="sandbox", officers=officers,
        email_domains=domains if domains is not None else (domain,),
    )


# The sandbox registry's companies: fixed, so tests and demos behave the same every time.
SANDBOX_COMPANIES: tuple[RegistryCompany, ...] = (
    _sandbox("00000001", "Acme Widgets Ltd", "gb", "Private Limited Company", "2015-03-02",
             "1 Example Street, London, EC1A 1AA, United Kingdom"),
    _sandbox("00000002", "Northwind Traders Ltd", "gb", "Private Limited Company", "2009-07-14",
             "221B Baker Street, London, NW1 6XE, United Kingdom",
             status="Dissolved", dissolved="2021-01-31"),
    _sandbox("00000003", "Globex Ltd", "gb", "Private Limited Company", "2018-05-21",
             "10 Market Street, Manchester, M1 1AA, United Kingdom"),
    _sandbox("00000004", "Globex Ltd", "gb", "Private Limited Company", "2020-11-03",
             "5 Quay Street, Bristol, BS1 4AA, United Kingdom"),
    _sandbox("1234567", "Acme Corporation", "us_de", "Corporation", "2012-01-10",
             "1209 Orange Street, Wilmington, DE 19801, USA"),
    _sandbox("C0806592", "Initech Inc", "us_ca", "Stock Corporation", "2001-02-19",
             "4120 Freidrich Lane, Austin, CA 94000, USA"),
    _sandbox("HRB 123456", "Beispiel Software GmbH", "de", "GmbH", "2016-09-01",
             "Friedrichstraße 1, 10117 Berlin, Germany"),
    _sandbox("552100554", "Exemple Conseil SAS", "fr", "SAS", "2014-04-15",
             "1 rue de Rivoli, 75001 Paris, France"),
    _sandbox("17087985", "Bover B.V.", "nl", "Besloten Vennootschap", "2004-06-30",
             "Keizersgracht 1, 1015 CJ Amsterdam, Netherlands"),
    _sandbox("654321", "Liffey Analytics Limited", "ie", "Private Company Limited by Shares",
             "2017-08-08", "1 Grand Canal Square, Dublin 2, Ireland"),
    _sandbox("B12345678", "Ejemplo Digital SL", "es", "Sociedad Limitada", "2019-02-11",
             "Calle Mayor 1, 28013 Madrid, Spain"),
    _sandbox("U72900KA2015PTC000001", "Bharat Code Private Limited", "in",
             "Private Company", "2015-12-01", "MG Road 1, Bengaluru 560001, India"),
    _sandbox("123456", "Nile Software S.A.E.", "eg", "Joint Stock Company", "2013-03-03",
             "1 Tahrir Square, Cairo, Egypt"),
    _sandbox("1234567890", "Gulf Ventures FZ-LLC", "ae", "Free Zone LLC", "2019-10-10",
             "Dubai Internet City, Dubai, United Arab Emirates"),
    _sandbox("BC1234567", "Maple Devices Inc", "ca_bc", "BC Company", "2011-05-05",
             "1 Granville Street, Vancouver, BC V6C 1T2, Canada"),
)


# Test and demo companies: every `gb` number SBX<digits> is an active "Acme Widgets Ltd" of
# its own, so any number of distinct verified clients can be made (a registry number may be
# claimed by one account only; see docs/clients.md). Not returned by name searches.
_TEST_COMPANY = re.compile(r"SBX[0-9]{1,12}")


class SandboxRegistry:
    """A complete in-memory registry: the built-in companies above (and the SBX test
    companies); anything else is not found."""

    name = "sandbox"

    def __init__(self, companies: tuple[RegistryCompany, ...] = SANDBOX_COMPANIES) -> None:
        self.companies = companies

    async def get_company(self, jurisdiction: str, company_number: str) -> RegistryCompany | None:
        key = _number_key(company_number)
        if jurisdiction.lower() == "gb" and _TEST_COMPANY.fullmatch(key):
            return _sandbox(key, "Acme Widgets Ltd", "gb", "Private Limited Company",
                            "2015-03-02", "1 Example Street, London, EC1A 1AA, United Kingdom")
        return next((c for c in self.companies if c.jurisdiction == jurisdiction.lower()
                     and _number_key(c.company_number) == key), None)

    async def search(self, jurisdiction: str, name: str) -> list[RegistryCompany]:
        wanted = normalize_name(name)
        where = jurisdiction.lower()
        # A bare `us` searches every US state, as OpenCorporates' country_code does.
        return [c for c in self.companies
                if (c.jurisdiction == where or c.jurisdiction.startswith(where + "_"))
                and wanted and wanted in normalize_name(c.name)]


# --- OpenCorporates -------------------------------------------------------------------------


class OpenCorporatesRegistry:
    """OpenCorporates REST API v0.4: `GET /companies/{jurisdiction}/{number}` and
    `GET /companies/search?q=&jurisdiction_code=`; the API token is sent as `api_token`."""

    name = "opencorporates"

    def __init__(
        self, *, api_token: str | None, base_url: str = "https://api.opencorporates.com/v0.4",
        timeout: float = 10.0, client: httpx.AsyncClient | None = None,
    ) -> None:
        self.api_token = api_token
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._client = client

    async def _get(self, path: str, params: dict[str, str]) -> dict[str, Any] | None:
        if self.api_token:
            params = {**params, "api_token": self.api_token}
        try:
            if self._client is not None:
                response = await self._client.get(
                    self.base_url + path, params=params, timeout=self.timeout
                )
            else:
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    response = await client.get(self.base_url + path, params=params)
        except httpx.HTTPError as exc:
            # The token is a query parameter: log the error's type, never the URL.
            log.warning("registry_unreachable", registry=self.name, error=type(exc).__name__)
            raise RegistryUnavailable("OpenCorporates could not be reached") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            log.warning("registry_error", registry=self.name, status=response.status_code)
            raise RegistryUnavailable(f"OpenCorporates answered {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise RegistryUnavailable("OpenCorporates answered with invalid JSON") from exc
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, dict):
            raise RegistryUnavailable("OpenCorporates answered without results")
        return results

    @staticmethod
    def _company(raw: dict[str, Any]) -> RegistryCompany:
        address = raw.get("registered_address_in_full")
        if not address and isinstance(raw.get("registered_address"), dict):
            parts = raw["registered_address"]
            address = ", ".join(
                str(parts[k]) for k in ("street_address", "locality", "region", "postal_code",
                                        "country") if parts.get(k)
            ) or None
        status = raw.get("current_status")
        inactive = bool(raw.get("inactive")) or bool(raw.get("dissolution_date"))
        # `officers` (company endpoint): [{"officer": {"name", "position", "end_date"}}];
        # only current officers (no end date) tie an account to the company.
        officers = tuple(
            str(item["officer"]["name"]) for item in raw.get("officers") or []
            if isinstance(item, dict) and isinstance(item.get("officer"), dict)
            and item["officer"].get("name") and not item["officer"].get("end_date")
        )
        return RegistryCompany(
            company_number=str(raw.get("company_number") or ""),
            name=str(raw.get("name") or ""),
            jurisdiction=str(raw.get("jurisdiction_code") or ""),
            current_status=str(status) if status is not None else None,
            active=not inactive,
            company_type=raw.get("company_type"),
            incorporation_date=raw.get("incorporation_date"),
            dissolution_date=raw.get("dissolution_date"),
            registered_address=address,
            registry_url=raw.get("opencorporates_url") or raw.get("registry_url"),
            source=OpenCorporatesRegistry.name, officers=officers,
        )

    async def get_company(self, jurisdiction: str, company_number: str) -> RegistryCompany | None:
        number = company_number.strip()
        if not number or "/" in number:
            return None
        results = await self._get(f"/companies/{jurisdiction.lower()}/{number}", {})
        if results is None or not isinstance(results.get("company"), dict):
            return None
        return self._company(results["company"])

    async def search(self, jurisdiction: str, name: str) -> list[RegistryCompany]:
        params = {"q": name, "per_page": "30"}
        if "_" in jurisdiction or jurisdiction.upper() not in _SUBDIVIDED:
            params["jurisdiction_code"] = jurisdiction.lower()
        else:
            params["country_code"] = jurisdiction.lower()
        results = await self._get("/companies/search", params)
        if results is None:
            return []
        return [self._company(item["company"]) for item in results.get("companies") or []
                if isinstance(item, dict) and isinstance(item.get("company"), dict)]


def registry_from_settings(settings: Settings) -> BusinessRegistry:
    if settings.business_registry == "opencorporates":
        return OpenCorporatesRegistry(
            api_token=settings.opencorporates_api_token,
            base_url=settings.opencorporates_base_url,
            timeout=settings.business_registry_timeout_seconds,
        )
    return SandboxRegistry()


def get_registry(app_state: Any) -> BusinessRegistry:
    """The application's registry (`app.state.business_registry`), built on first use."""
    registry: BusinessRegistry | None = getattr(app_state, "business_registry", None)
    if registry is None:
        registry = registry_from_settings(app_state.settings)
        app_state.business_registry = registry
    return registry


def production_problems(settings: Settings) -> list[str]:
    problems = []
    if settings.business_registry == "sandbox":
        problems.append("MINDLINKS_BUSINESS_REGISTRY is 'sandbox'; production needs a real one")
    elif not settings.opencorporates_api_token:
        problems.append("MINDLINKS_OPENCORPORATES_API_TOKEN is not set")
    return problems

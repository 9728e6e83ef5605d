"""Checks of the identifiers contractors type in: phone numbers (E.164), IANA time zones,
IBAN (ISO 13616 mod-97), BIC (ISO 9362), US ABA routing numbers, and name comparison.

Each returns the normalised value or raises `ValidationFailed` with a field-level error.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from functools import lru_cache

import phonenumbers
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from mindlinks.platform.errors import ValidationFailed

# Field-level checks of contractor input: one class per code (see platform/errors.py).

class CountryRequired(ValidationFailed):
    code, title = "country_required", "Country required"


class AccountNumberRequired(ValidationFailed):
    code, title = "account_number_required", "Account number required"


class RoutingNumberRequired(ValidationFailed):
    code, title = "routing_number_required", "Routing number required"


class InvalidRoutingNumber(ValidationFailed):
    code, title = "invalid_routing_number", "Invalid routing number"


class AccountHolderRequired(ValidationFailed):
    code, title = "account_holder_required", "Account holder required"


class NameRequired(ValidationFailed):
    code, title = "name_required", "Name required"


class InvalidTaxId(ValidationFailed):
    code, title = "invalid_tax_id", "Invalid tax id"


class TaxFormMismatch(ValidationFailed):
    code, title = "tax_form_mismatch", "Wrong tax form"


class AlreadyExpired(ValidationFailed):
    code, title = "already_expired", "Already expired"


class DuplicateCoverage(ValidationFailed):
    code, title = "duplicate_coverage", "Duplicate coverage type"


class InvalidPhone(ValidationFailed):
    code, title = "invalid_phone", "Invalid phone number"


class InvalidTimezone(ValidationFailed):
    code, title = "invalid_timezone", "Invalid time zone"


class InvalidIban(ValidationFailed):
    code, title = "invalid_iban", "Invalid IBAN"


class InvalidBic(ValidationFailed):
    code, title = "invalid_bic", "Invalid SWIFT/BIC"


class InvalidAccountNumber(ValidationFailed):
    code, title = "invalid_account_number", "Invalid account number"


class ReasonRequired(ValidationFailed):
    code, title = "reason_required", "A reason is required"


def invalid(field: str, error: type[ValidationFailed], message: str) -> ValidationFailed:
    """`error` for one field, with the field-level entry clients highlight."""
    return error(message, errors=[{"field": field, "message": message, "code": error.code}])


def normalize_phone(value: str, field: str = "phone") -> str:
    """`+1 (415) 555-2671` -> `+14155552671`; only full international numbers are accepted."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise invalid(field, InvalidPhone,
                      "Give the phone number in international format (+country code)") from exc
    if not phonenumbers.is_valid_number(number):
        raise invalid(field, InvalidPhone, "This is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(value: str, field: str = "timezone") -> str:
    if value not in _zones():
        raise invalid(field, InvalidTimezone, "Not an IANA time zone (e.g. Africa/Cairo)")
    return value


def normalize_iban(value: str, field: str = "iban") -> str:
    try:
        return str(IBAN(value).compact)
    except SchwiftyException as exc:
        raise invalid(field, InvalidIban, "The IBAN is not valid (check digits)") from exc


def normalize_bic(value: str, field: str = "swiftCode") -> str:
    try:
        return str(BIC(value).compact)
    except SchwiftyException as exc:
        raise invalid(field, InvalidBic, "The SWIFT/BIC code is not valid") from exc


def aba_checksum_ok(routing: str) -> bool:
    """ABA routing number: 9 digits, 3-7-1 weighted sum divisible by 10."""
    if not re.fullmatch(r"\d{9}", routing) or routing == "000000000":
        return False
    digits = [int(d) for d in routing]
    weights = [3, 7, 1] * 3
    return sum(d * w for d, w in zip(digits, weights, strict=True)) % 10 == 0


def check_aba(value: str, field: str = "routingNumber") -> str:
    routing = re.sub(r"[\s-]", "", value)
    if not aba_checksum_ok(routing):
        raise invalid(field, InvalidRoutingNumber,
                      "Not a valid US ABA routing number (9 digits, checksum)")
    return routing


def normalize_account_number(value: str, field: str = "accountNumber") -> str:
    number = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"[0-9A-Za-z]{4,34}", number):
        raise invalid(field, InvalidAccountNumber,
                      "An account number is 4 to 34 letters or digits")
    return number.upper()


def name_key(name: str) -> str:
    """A comparison key that ignores case, accents, punctuation and spacing:
    `José  O'Brien` and `jose obrien` have the same key."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    letters = letters.casefold()
    return " ".join(re.sub(r"[^\w\s]", "", letters).split())


def last4(value: str) -> str:
    visible = "".join(ch for ch in value if ch.isalnum())
    return visible[-4:]


def masked(last_four: str | None) -> str | None:
    return None if last_four is None else f"****{last_four}"

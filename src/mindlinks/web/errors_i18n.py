"""Domain errors on the pages, in the page's language.

Services raise `DomainError`s whose `detail` is English and may carry figures ("The minimum
withdrawal is 10.00 USD"); their `code` is stable (platform/errors.py `ERROR_CODES`). The pages
show `ErrorText`: the English detail (a plain `str`, so joining or comparing it works as
before) that remembers its code. When a page is rendered (Jinja's `finalize`, installed in
`web/pages.py`), an `ErrorText` whose code is in `MESSAGES` is replaced by that message from
the page language's catalogue; a code without a message, or an English page, keeps the
service's own text (which may be more specific). The messages are generic on purpose: the
figures of an English detail are not parsed back out of it.

Field-level details (the `errors` entries of a domain error or of a problem, and a Pydantic
`ValidationError`'s errors) are `ErrorText`s too, with the entry's `field` and `params`: their
code is the domain's per-field code (`invalid_iban`, `weak_password` with its `rule`) or the
Pydantic error type (`missing`, `string_too_long` with `max_length`, ...), looked up in
`FIELD_MESSAGES` then `MESSAGES`, the parameters put in the translated message (numbers in the
page's digits), the field shown by the label of the page's form (`form_labels`), else
`FIELD_LABELS`, else its name made readable - in English too.

`tests/web/test_errors_i18n.py` checks that every registered code (`ERROR_CODES`, every module
imported) has a message here or is in `API_ONLY` with the reason no page can show it, and
the Arabic catalogue test that each message is translated.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from mindlinks.platform.errors import DomainError
from mindlinks.web import form_labels, i18n
from mindlinks.web.i18n import N_


class ErrorText(str):
    """A message shown on a page, with the stable code of the error it comes from and, for a
    field-level detail, the field and the message's parameters."""

    code: str | None
    field: str | None
    params: dict[str, Any]
    detail: str  # the English message without the field's name

    def __new__(cls, text: str, code: str | None = None, field: str | None = None,
                params: dict[str, Any] | None = None, detail: str | None = None) -> ErrorText:
        made = super().__new__(cls, text)
        made.code = code
        made.field = field
        made.params = params or {}
        made.detail = text if detail is None else detail
        return made


_SNAKE = re.compile(r"(?<=[a-z0-9])([A-Z])")

MESSAGES: dict[str, str] = {
    # accounts and sign-in
    "invalid_credentials": N_("Invalid email or password"),
    "account_suspended": N_("This account is suspended. Contact support."),
    "email_taken": N_("An account with this email already exists."),
    "email_already_verified": N_("Your email address is already verified."),
    "invalid_or_expired_token": N_("This link is invalid or has expired."),
    "invalid_current_password": N_("The current password is wrong."),
    "weak_password": N_("The password does not meet the policy."),
    "invalid_mfa_code": N_("The code is not valid. Try again."),
    "too_many_requests": N_("Too many attempts. Wait a little and try again."),
    "csrf_failed": N_("The form expired or came from another site. Reload the page."),
    "not_found": N_("Not found."),
    "permission_denied": N_("You are not allowed to do this."),
    "validation_error": N_("Some fields are not valid."),
    "invalid_transition": N_("This cannot be done in the current state."),
    "conflict": N_("This conflicts with the current state. Reload the page."),
    "service_unavailable": N_("The service is unavailable. Try again later."),
    # invitations and companies
    "invitation_not_found": N_("This invitation does not exist."),
    "invitation_expired": N_("This invitation has expired. Ask for a new one."),
    "invitation_accepted": N_("This invitation has already been used."),
    "invitation_revoked": N_("This invitation was withdrawn."),
    "invitation_email_mismatch": N_("This invitation is for another email address."),
    "invitation_already_pending": N_("This contractor already has a pending invitation."),
    "company_not_verified": N_("Your company is not verified yet."),
    "company_exists": N_("This company is already registered."),
    "reason_required": N_("Give a reason."),
    # contractors' details
    "kyc_required": N_("Verify your identity first."),
    "country_not_supported": N_("The platform does not serve this country yet."),
    "unknown_country": N_("Unknown country."),
    "unknown_currency": N_("Unknown currency."),
    "bank_account_not_found": N_("No such bank account."),
    "bank_account_not_verified": N_("Verify this bank account first."),
    "bank_account_name_mismatch": N_("The account holder's name does not match your name."),
    "incorrect_amounts": N_("The amounts do not match the deposits."),
    "verification_failed": N_("Bank account verification failed."),
    # timesheets and milestones
    "contract_not_active": N_("The contract is not active."),
    "contract_not_hourly": N_("Timesheets are for hourly contracts."),
    "invalid_week_ending": N_("A week ends on a Saturday."),
    "week_outside_contract": N_("The week is outside the contract's dates."),
    "entry_outside_contract": N_("A day is outside the contract's dates."),
    "entry_outside_week": N_("A day is outside the week."),
    "future_entry": N_("Hours cannot be entered for a future day."),
    "duplicate_entry_date": N_("A day appears twice."),
    "invalid_entry": N_("A day's entry is not valid."),
    "invalid_hours": N_("Enter the hours as a number."),
    "too_many_hours": N_("A day has at most 24 hours."),
    "timesheet_exists": N_("This week already has a timesheet."),
    "invalid_amendment": N_("Only an approved week can be corrected."),
    "duplicate_review_item": N_("The same timesheet appears twice."),
    "milestone_not_found": N_("No such milestone."),
    "payroll_not_approvable": N_("Only a draft payroll can be approved."),
    # money
    "insufficient_funds": N_("Your available balance does not cover this amount."),
    "too_many_decimals": N_("The amount has more decimals than its currency allows."),
    "invalid_amount": N_("Enter a positive amount."),
    "amount_out_of_range": N_("The amount is out of the allowed range."),
    "amount_below_minimum": N_("The amount is below the minimum withdrawal."),
    "payout_country_required": N_("Set your country in your profile before withdrawing."),
    "currency_not_held": N_("You hold no balance in this currency."),
    "unsupported_currency": N_("This currency is not supported."),
    "method_unavailable": N_("This withdrawal method is not available."),
    "quote_required": N_("Withdrawals in this currency need a quote."),
    "quote_not_found": N_("No such quote."),
    "quote_expired": N_("The quote has expired. Ask for a fresh one."),
    "quote_used": N_("The quote has already been used."),
    "quote_mismatch": N_("The withdrawal does not match the quote. Ask for a fresh one."),
    "too_many_open_quotes": N_("Too many open quotes: use one or wait."),
    "fx_pair_unsupported": N_("There is no exchange rate for this currency."),
    "fx_rates_stale": N_("Exchange rates are out of date. Try again later."),
    "fx_rates_unavailable": N_("Exchange rates cannot be fetched now. Try again later."),
    "withdrawal_limit_exceeded": N_("Too many withdrawals today. Try again later."),
    "withdrawal_not_found": N_("No such withdrawal."),
    "idempotency_key_reused": N_("This form was sent with other values. Start again."),
    "idempotency_key_in_flight": N_("This form is being processed. Wait a moment and reload."),
    # uploads (platform/uploads.py) and credentials
    "file_too_large": N_("The file is too large."),
    "empty_file": N_("The file is empty."),
    "unsupported_file_type": N_("This type of file is not accepted."),
    "polyglot_file": N_("The file hides other content."),
    "unsafe_pdf": N_("The PDF contains active content (scripts, links or attachments)."),
    "encrypted_pdf": N_("The PDF is password-protected: upload an unprotected copy."),
    "corrupt_file": N_("The file could not be read."),
    "image_too_large": N_("The image has too many pixels."),
    "license_exists": N_("You already have this licence for this state."),
    "already_expired": N_("The expiration date is in the past."),
}


def message(exc: DomainError) -> ErrorText:
    """The error's English detail, tagged with its code for `localise`."""
    return ErrorText(exc.detail, exc.code)


def _plain(params: Any) -> dict[str, Any]:
    """The parameters a message may show: numbers and short strings (Pydantic's `ctx` also
    holds exception objects)."""
    if not isinstance(params, dict):
        return {}
    return {str(k): v for k, v in params.items()
            if isinstance(v, int | float | Decimal | str) and not isinstance(v, bool)
            and len(str(v)) <= 200}


def field_error(field: str, text: str, code: str | None,
                params: dict[str, Any] | None = None) -> ErrorText:
    """One field-level detail: English `field: text` (shown with the form's label),
    translated by `code` (+ `params`)."""
    return ErrorText(f"{field}: {text}" if field else text, code, field or None,
                     _plain(params), text)


def entry_code(entry: dict[str, Any]) -> str | None:
    """The lookup code of an `errors` entry: its `code`, or `code:rule` for the password
    policy's rules (`params.rule`)."""
    code = entry.get("code")
    params = entry.get("params")
    rule = params.get("rule") if isinstance(params, dict) else None
    return f"{code}:{rule}" if code and rule else code


def entries(errors: Any) -> list[ErrorText]:
    """The `errors` entries of a domain error or a problem body, each an `ErrorText`."""
    if not isinstance(errors, list):
        return []
    return [field_error(str(e.get("field") or ""), str(e.get("message") or ""), entry_code(e),
                        e.get("params")) for e in errors[:50] if isinstance(e, dict)]



def validation_errors(errors: list[Any]) -> list[ErrorText]:
    """A Pydantic `ValidationError.errors()` list: the error type is the code, `ctx` the
    parameters (`max_length`, `ge`, ...)."""
    return [field_error(".".join(str(p) for p in e["loc"]) or "input", e["msg"], e["type"],
                        e.get("ctx")) for e in errors]


def _snake(name: str) -> str:
    return _SNAKE.sub(r"_\1", name).lower()


def field_names(field: str) -> tuple[str, str]:
    """The form names an error's field may have: its whole path (`address.postalCode` ->
    `address_postal_code`) and its last part (`postal_code`)."""
    return _snake(field.replace(".", "_")), _snake(field.rsplit(".", 1)[-1])


def _label(field: str) -> str:
    """The field as the page's form labels it (web/form_labels.py), else by the shared
    labels, else its name made readable (`routingNumber` -> "Routing number")."""
    whole, last = field_names(field)
    message = form_labels.label(whole, last) or FIELD_LABELS.get(whole) or FIELD_LABELS.get(last)
    if message is not None:
        return i18n.gettext(message)
    return last.replace("_", " ").strip().capitalize() or field


def _formatted(params: dict[str, Any]) -> dict[str, Any]:
    return {k: i18n.number(v) if isinstance(v, int | float | Decimal) else v
            for k, v in params.items()}


def _message(value: ErrorText) -> str | None:
    """The message alone (no field name) in the page's language, or None when its code has
    no message or the page is English (the service's text may be more specific)."""
    if i18n.current() == i18n.DEFAULT_LANGUAGE:
        return None
    template = FIELD_MESSAGES.get(value.code or "") or MESSAGES.get(value.code or "")
    if template is None:
        return None
    text = i18n.gettext(template)
    try:
        return text % _formatted(value.params) if "%(" in text else text
    except (KeyError, ValueError, TypeError):  # a parameter missing: the generic sentence
        return None


def translate(value: ErrorText) -> str | None:
    """`value` in the page's language, or None when its code has no message."""
    text = _message(value)
    if text is None:
        return None
    return f"{_label(value.field)}: {text}" if value.field else text


def bare(value: Any) -> Any:
    """A field error shown next to its field (the label is already there): the message
    alone, in the page's language."""
    if not isinstance(value, ErrorText):
        return value
    return _message(value) or value.detail


def localise(value: Any) -> Any:
    """Jinja's `finalize`: an `ErrorText` in the page's language with its field shown by the
    form's label ("Routing number / sort code: ..." rather than `routingNumber: ...`, in
    English too); every other value unchanged (one `isinstance` per printed expression)."""
    if not isinstance(value, ErrorText):
        return value
    if value.field:
        return f"{_label(value.field)}: {_message(value) or value.detail}"
    return translate(value) or value


# Contract, KYC, account and money codes a page can show (added for issue 15's Arabic pages).
MESSAGES.update({
    # accounts
    "mfa_already_enabled": N_("Two-step sign-in is already on."),
    "mfa_not_enrolled": N_("Set up two-step sign-in first."),
    "mfa_not_enabled": N_("Two-step sign-in is not on."),
    "mfa_required_for_admins": N_("Administrators must keep two-step sign-in on."),
    "mfa_required": N_("This needs the two-step sign-in code."),
    "session_revoked": N_("Your session has ended. Sign in again."),
    "refresh_token_reused": N_("Your session has ended. Sign in again."),
    "invalid_refresh_token": N_("Your session has ended. Sign in again."),
    "refresh_token_expired": N_("Your session has ended. Sign in again."),
    "not_authenticated": N_("Sign in to continue."),
    "unauthorized": N_("Sign in to continue."),
    "invalid_token": N_("Your session is not valid. Sign in again."),
    "token_expired": N_("Your session has expired. Sign in again."),
    "forbidden_role": N_("Your account's role cannot do this."),
    "bad_request": N_("The request is not valid."),
    "internal_error": N_("Something went wrong on our side. Try again later."),
    "method_not_allowed": N_("This page cannot be used this way."),
    "payload_too_large": N_("What you sent is too large."),
    "unsupported_media_type": N_("This kind of content is not accepted."),
    "invalid_characters": N_("The text contains characters that are not allowed."),
    "gone": N_("This link is no longer valid."),
    "password_required": N_("Choose a password."),
    "contractor_profile_missing": N_("Complete your contractor profile first."),
    # companies, documents, uploads
    "company_not_found": N_("No such company."),
    "contractor_not_found": N_("No such contractor."),
    "document_not_found": N_("No such document."),
    "file_too_large": N_("The file is too large."),
    "empty_file": N_("The file is empty."),
    "image_too_large": N_("The image is too large."),
    "polyglot_file": N_("The file is not a clean PDF, JPEG or PNG."),
    "unsupported_file_type": N_("This file type is not accepted."),
    "encrypted_pdf": N_("The PDF is password-protected: upload an unprotected copy."),
    "unsafe_pdf": N_("The PDF contains scripts or attachments and cannot be accepted."),
    "corrupt_file": N_("The file is damaged and cannot be read."),
    "invalid_url_signature": N_("This download link has expired. Open it again from the page."),
    # contractors' details
    "country_required": N_("Choose a country."),
    "account_number_required": N_("Enter the account number."),
    "routing_number_required": N_("Enter the routing number."),
    "invalid_routing_number": N_("The routing number is not valid."),
    "account_holder_required": N_("Enter the account holder's name."),
    "name_required": N_("Enter a name."),
    "invalid_tax_id": N_("The tax number is not valid."),
    "tax_form_mismatch": N_("This tax form does not fit your country."),
    "already_expired": N_("The expiry date has passed."),
    "duplicate_coverage": N_("You already have a policy of this type."),
    "invalid_phone": N_("Enter the phone number in international format (+ and country code)."),
    "invalid_timezone": N_("Choose a valid time zone."),
    "invalid_iban": N_("The IBAN is not valid."),
    "invalid_bic": N_("The SWIFT/BIC code is not valid."),
    "invalid_account_number": N_("The account number is not valid."),
    "micro_deposits_unavailable": N_(
        "Verification by small deposits is not available for this account."),
    "tax_info_not_found": N_("No tax form yet."),
    "license_not_found": N_("No such licence."),
    "insurance_policy_not_found": N_("No such insurance policy."),
    "license_exists": N_("This licence is already registered."),
    "country_rule_exists": N_("This country already has rules."),
    "country_rule_not_found": N_("No rules for this country."),
    # KYC
    "kyc_session_not_found": N_("No such identity check."),
    "kyc_document_not_found": N_("No such identity document."),
    "kyc_session_required": N_("Start the identity check first."),
    "proof_of_address_required": N_("Upload a proof of address."),
    "kyc_provider_unavailable": N_("Identity checks are unavailable now. Try again later."),
    "kyc_sandbox_not_active": N_("This test check is no longer active."),
    "invalid_date": N_("Enter a valid date."),
    # contracts
    "contract_not_found": N_("No such contract."),
    "contractor_not_linked": N_("This contractor has not joined your company."),
    "template_mismatch": N_("The template does not fit this contract's type."),
    "milestones_required": N_("Add at least one milestone."),
    "milestone_total_mismatch": N_("The milestones do not add up to the contract's amount."),
    "milestones_not_allowed": N_("Milestones are only for milestone contracts."),
    "invalid_dates": N_("The end date must be after the start date."),
    "contract_too_long": N_("The contract is too long."),
    "document_not_ready": N_("The contract document is not ready yet. Try again shortly."),
    "unknown_template": N_("No such contract template."),
    "template_not_found": N_("No such template."),
    "invalid_template": N_("The template is not valid."),
    "unknown_template_variable": N_("The template uses a variable that does not exist."),
    "missing_template_variable": N_("A value the template needs is missing."),
    "template_in_use": N_("Contracts were made from this template: it cannot be deleted."),
    "invalid_signature_image": N_("The signature could not be read. Sign again."),
    "signature_too_large": N_("The signature image is too large."),
    "document_mismatch": N_("The contract changed since you opened it. Reload and sign again."),
    # timesheets, invoices, payments
    "timesheet_not_found": N_("No such timesheet."),
    "invoice_not_found": N_("No such invoice."),
    "payroll_not_found": N_("No such payroll run."),
    "deposit_not_found": N_("No such deposit."),
    "deposit_conflict": N_("This deposit was already made with other values."),
    "payments_provider_unavailable": N_("Payments are unavailable now. Try again later."),
    "currency_mismatch": N_("The currencies do not match."),
    "invalid_fx_rate": N_("The exchange rate is not valid."),
    "fx_rate_not_settable": N_("This exchange rate cannot be set by hand."),
    "statement_month_invalid": N_("Choose a valid month."),
    "statement_month_in_future": N_("This month has not happened yet."),
    "statement_too_large": N_("The statement is too large: choose a shorter period."),
    "reconciliation_day_in_future": N_("This day has not happened yet."),
    "ledger_broken": N_("The ledger failed its check. Contact the operators."),
    # admin balance adjustments (maker-checker, web/admin_adjustment_pages.py)
    "same_admin": N_("A second admin must approve: you requested this adjustment."),
    "adjustment_request_expired": N_(
        "This adjustment request expired. Make the adjustment again."),
    "adjustment_request_not_found": N_("No such adjustment request."),
    "ledger_range": N_("The range of entries is not valid."),
    "notification_not_found": N_("No such notification."),
    "security_notification_required": N_("Security notifications cannot be turned off."),
    "unknown_notification_type": N_("No such notification type."),
    "invalid_unsubscribe_token": N_("This unsubscribe link is not valid."),
    "too_many_streams": N_("Too many open pages with live updates. Close one."),
})

# Codes no page can show, with the reason: the test requires every other registered code to
# have a message above.
API_ONLY: dict[str, str] = {
    "logo_not_found": "the logo's own address, an image source: no page shows its message",
    "invalid_json": "pages post forms, never a JSON body",
    "not_acceptable": "pages never send an Accept the API refuses",
    "idempotency_key_required": "the Idempotency-Key header of the API (pages use a form key)",
    "idempotency_key_invalid": "the Idempotency-Key header of the API",
    "invalid_webhook_signature": "provider webhooks (server to server)",
    "malformed_webhook": "provider webhooks",
    "kyc_provider_not_found": "provider webhooks' path",
    "invalid_signature": "payments provider webhooks",
    "payments_provider_not_found": "payments provider webhooks' path",
    "webhook_not_found": "webhook endpoints of the API",
    "sandbox_intent_not_found": "the sandbox provider's own pages and API",
    "sandbox_payout_not_found": "the sandbox provider's control API",
    "sandbox_payout_not_sent": "the sandbox provider's control API",
    "ledger_payload": "ledger appends by services (a programming error, not user input)",
    "ledger_pii": "ledger appends by services (a programming error, not user input)",
    "ledger_entry_not_found": "ledger proof API",
    "ledger_entity_not_found": "ledger proof API",
    "reference_conflict": "the book's internal transfers (services, not forms)",
    "pending_not_pending": "the book's internal transfers",
    "pending_expired": "the book's internal transfers",
    "transfer_not_found": "the book's internal transfers",
    "amount_exceeds_pending": "the book's internal transfers",
    "account_not_found": "the book's internal accounts",
    "invalid_reference": "the book's internal transfers",
    "invalid_code": "the book's internal transfer codes",
    "same_account": "the book's internal transfers",
    "invalid_expiry": "the book's internal transfers",
    "statement_digest_invalid": "the statement verification API",
}

# Pydantic error types (`ValidationError.errors()[i]["type"]`, the `code` of a problem's
# `errors` entry) and the password policy's rules, with the `ctx` parameters they show.
FIELD_MESSAGES: dict[str, str] = {
    "missing": N_("This field is required."),
    "string_too_short": N_("Enter at least %(min_length)s characters."),
    "string_too_long": N_("Enter at most %(max_length)s characters."),
    "too_short": N_("Give at least %(min_length)s items."),
    "too_long": N_("Give at most %(max_length)s items."),
    "greater_than": N_("Enter a number greater than %(gt)s."),
    "greater_than_equal": N_("Enter a number of at least %(ge)s."),
    "less_than": N_("Enter a number less than %(lt)s."),
    "less_than_equal": N_("Enter a number of at most %(le)s."),
    "multiple_of": N_("Enter a multiple of %(multiple_of)s."),
    "decimal_max_places": N_("Enter at most %(decimal_places)s decimals."),
    "decimal_max_digits": N_("Enter at most %(max_digits)s digits."),
    "decimal_whole_digits": N_("Enter at most %(whole_digits)s digits before the decimal point."),
    "string_type": N_("Enter text."),
    "string_pattern_mismatch": N_("The format is not valid."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "float_type": N_("Enter a number."),
    "decimal_parsing": N_("Enter a number."),
    "decimal_type": N_("Enter a number."),
    "finite_number": N_("Enter a number."),
    "bool_parsing": N_("Choose yes or no."),
    "bool_type": N_("Choose yes or no."),
    "date_parsing": N_("Enter a valid date."),
    "date_from_datetime_parsing": N_("Enter a valid date."),
    "date_type": N_("Enter a valid date."),
    "datetime_parsing": N_("Enter a valid date and time."),
    "datetime_from_date_parsing": N_("Enter a valid date and time."),
    "datetime_type": N_("Enter a valid date and time."),
    "uuid_parsing": N_("This identifier is not valid."),
    "uuid_type": N_("This identifier is not valid."),
    "url_parsing": N_("Enter a valid web address."),
    "url_type": N_("Enter a valid web address."),
    "url_scheme": N_("Enter a valid web address."),
    "literal_error": N_("Choose one of: %(expected)s."),
    "enum": N_("Choose one of: %(expected)s."),
    "extra_forbidden": N_("This field is not accepted."),
    "value_error": N_("This value is not valid."),
    "assertion_error": N_("This value is not valid."),
    "list_type": N_("Give a list."),
    "dict_type": N_("This value is not valid."),
    "model_type": N_("This value is not valid."),
    "json_invalid": N_("This value is not valid."),
    # auth/passwords.py: the rule of each `weak_password` entry (`params.rule`)
    "weak_password:min_length": N_("Use at least %(min)s characters."),
    "weak_password:max_length": N_("Use at most %(max)s characters."),
    "weak_password:common": N_("This password is one of the most common ones: choose another."),
    "weak_password:email": N_("Do not use the part of your email address before the @."),
    "weak_password:breached": N_("This password has appeared in a data breach: choose another."),
}

# Field names of the forms and requests -> their label (snake_case; camelCase is converted).
FIELD_LABELS: dict[str, str] = {
    "email": N_("Email"), "password": N_("Password"), "new_password": N_("New password"),
    "current_password": N_("Current password"), "name": N_("Name"),
    "first_name": N_("First name"), "last_name": N_("Last name"), "phone": N_("Phone"),
    "timezone": N_("Time zone"), "country": N_("Country"), "currency": N_("Currency"),
    "amount": N_("Amount"), "iban": N_("IBAN"), "bic": N_("SWIFT/BIC"),
    "swift_code": N_("SWIFT/BIC"), "account_number": N_("Account number"),
    "routing_number": N_("Routing number"), "account_holder_name": N_("Account holder"),
    "bank_name": N_("Bank name"), "tax_id": N_("Tax number"), "reason": N_("Reason"),
    "title": N_("Title"), "description": N_("Description"), "subject": N_("Subject"),
    "body": N_("Body"), "text_body": N_("Plain-text body"), "message": N_("Message"),
    "start_date": N_("Start date"), "end_date": N_("End date"), "rate": N_("Rate"),
    "hours": N_("Hours"), "notes": N_("Notes"), "company_name": N_("Company name"),
    "website": N_("Website"), "address": N_("Address"), "city": N_("City"),
    "postal_code": N_("Postal code"), "license_number": N_("Licence number"),
    "policy_number": N_("Policy number"), "expiry_date": N_("Expiry date"),
    "template_content": N_("Template"), "variables": N_("Variables"),
    "amounts": N_("Amounts"), "quote_id": N_("Quote"), "bank_account_id": N_("Bank account"),
}

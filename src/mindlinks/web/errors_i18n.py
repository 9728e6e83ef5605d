"""Domain errors on the pages, in the page's language.

Services raise `DomainError`s whose `detail` is English and may carry figures ("The minimum
withdrawal is 10.00 USD"); their `code` is stable (platform/errors.py `ERROR_CODES`). The pages
show `ErrorText`: the English detail (a plain `str`, so joining or comparing it works as
before) that remembers its code. When a page is rendered (Jinja's `finalize`, installed in
`web/pages.py`), an `ErrorText` whose code is in `MESSAGES` is replaced by that message from
the page language's catalogue; a code without a message, or an English page, keeps the
service's own text (which may be more specific). The messages are generic on purpose: the
figures of an English detail are not parsed back out of it.

A code is added here when a page can show it; `tests/web/test_errors_i18n.py` checks that each
one is a registered code and has its Arabic translation (through the catalogue test).
"""

from __future__ import annotations

from typing import Any

from mindlinks.platform.errors import DomainError
from mindlinks.web import i18n
from mindlinks.web.i18n import N_


class ErrorText(str):
    """A message shown on a page, with the stable code of the error it comes from."""

    code: str | None

    def __new__(cls, text: str, code: str | None = None) -> ErrorText:
        made = super().__new__(cls, text)
        made.code = code
        return made


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


def localise(value: Any) -> Any:
    """Jinja's `finalize`: an `ErrorText` with a known code in the page's language; every
    other value unchanged (one `isinstance` per printed expression)."""
    if isinstance(value, ErrorText) and value.code in MESSAGES \
            and i18n.current() != i18n.DEFAULT_LANGUAGE:
        return i18n.gettext(MESSAGES[value.code])
    return value

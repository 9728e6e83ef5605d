"""What the platform notifies about: each notification type, its variables, its default
templates (in-app title/message, email subject/HTML/text, SMS) and whether it is a security
notification (always delivered in-app and by email, whatever the preferences say).

Template variables are snake_case; `variables_from_payload` turns an event payload's camelCase
keys into them. Every template may also use the common variables below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

COMMON_VARIABLES = frozenset(
    {"recipient_name", "app_url", "action_url", "occurred_at", "unsubscribe_url",
     "locale", "timezone"}
)

CHANNELS = ("in_app", "email", "sms")


@dataclass(frozen=True)
class Kind:
    type: str
    title: str
    message: str
    subject: str
    variables: tuple[str, ...] = ()
    security: bool = False
    action_path: str | None = None  # relative to the public URL, may use variables
    channels: tuple[str, ...] = CHANNELS
    html: str | None = None  # default: the message in the standard layout
    text: str | None = None  # default: greeting + message + link
    sms: str | None = None  # default: the message

    @property
    def allowed_variables(self) -> frozenset[str]:
        return COMMON_VARIABLES | frozenset(self.variables)


_SECURITY_FOOTER = " If this wasn't you, reset your password and contact support at once."

KINDS: dict[str, Kind] = {
    k.type: k
    for k in [
        Kind(
            "profile_updated", "Profile updated",
            "Your profile was updated{% if fields %} ({{ fields | join(', ') }}){% endif %}.",
            "Your Mind-Links profile was updated", ("fields",), action_path="/profile",
        ),
        Kind(
            "kyc_completed", "Identity verification update",
            "{% if kyc_status == 'verified' %}Your identity has been verified: you can now sign "
            "contracts and receive payments.{% else %}Your identity verification finished: "
            "{{ kyc_status }}.{% endif %}",
            "Your identity verification is complete", ("kyc_status",), action_path="/kyc",
        ),
        Kind(
            "contract_ready_to_sign", "Contract Ready for Signature",
            "{{ client_name or 'A client' }} has sent you a new contract"
            "{% if contract_title %}: {{ contract_title }}{% endif %}",
            "A contract is ready for your signature", ("contract_id", "contract_title",
                                                       "client_name"),
            action_path="/contracts/{{ contract_id }}",
        ),
        Kind(
            "contract_signed", "Contract Signed",
            "{{ signer_name or 'The other party' }} signed "
            "{{ contract_title or 'the contract' }}",
            "Contract signed", ("contract_id", "contract_title", "signer_name", "signed_by"),
            action_path="/contracts/{{ contract_id }}",
        ),
        Kind(
            "timesheet_submitted", "Timesheet Submitted",
            "{{ contractor_name or 'A contractor' }} submitted a timesheet"
            "{% if hours is not none %} for {{ hours }} hours{% endif %}"
            "{% if period_start %} ({{ period_start | date }} - "
            "{{ period_end | date }}){% endif %}",
            "A timesheet is waiting for your approval",
            ("timesheet_id", "contract_id", "contractor_name", "hours", "period_start",
             "period_end"),
            action_path="/timesheets/{{ timesheet_id }}",
        ),
        Kind(
            "timesheet_approved", "Timesheet Approved",
            "Your timesheet{% if period_start %} for {{ period_start | date }} - "
            "{{ period_end | date }}{% endif %} was approved"
            "{% if amount is not none %}: {{ amount | money(currency) }}{% endif %}",
            "Your timesheet was approved",
            ("timesheet_id", "contract_id", "hours", "amount", "currency", "period_start",
             "period_end"),
            action_path="/timesheets/{{ timesheet_id }}",
        ),
        Kind(
            "timesheet_rejected", "Timesheet Rejected",
            "Your timesheet{% if period_start %} for {{ period_start | date }} - "
            "{{ period_end | date }}{% endif %} was rejected: {{ reason }}",
            "Your timesheet was rejected",
            ("timesheet_id", "contract_id", "reason", "period_start", "period_end"),
            action_path="/timesheets/{{ timesheet_id }}",
        ),
        Kind(
            "timesheet_reminder", "Timesheet Due",
            "Please submit your timesheet{% if contract_title %} for {{ contract_title }}"
            "{% endif %} for {{ period_start | date }} - {{ period_end | date }}"
            "{% if due_at %}; it is due by {{ due_at | datetime }}{% endif %}.",
            "Your timesheet is due",
            ("contract_id", "contract_title", "period_start", "period_end", "due_at"),
            action_path="/timesheets",
        ),
        Kind(
            "payment_received", "Payment Received",
            "You received {{ amount | money(currency) }}"
            "{% if client_name %} from {{ client_name }}{% endif %}",
            "You received {{ amount | money(currency) }}",
            ("payment_id", "contract_id", "amount", "currency", "client_name"),
            action_path="/payments",
        ),
        Kind(
            "invoice_issued", "New Invoice",
            "Invoice {{ invoice_number }} for {{ amount | money(currency) }} was issued; it is "
            "due on {{ due_date }}.",
            "Invoice {{ invoice_number }} issued",
            ("invoice_id", "invoice_number", "contract_id", "amount", "currency", "due_date"),
            action_path="/invoices/{{ invoice_id }}",
        ),
        Kind(
            "invoice_overdue", "Invoice Overdue",
            "Invoice {{ invoice_number }} for {{ amount | money(currency) }} was due on "
            "{{ due_date }} and is not paid yet.",
            "Invoice {{ invoice_number }} is overdue",
            ("invoice_id", "invoice_number", "contract_id", "amount", "currency", "due_date"),
            action_path="/invoices/{{ invoice_id }}",
        ),
        Kind(
            "invoice_awaiting_funding", "Funds Needed",
            "Invoice {{ invoice_number }} for {{ amount | money(currency) }} is waiting for "
            "funds: your escrow does not cover it. Add funds to pay it on time.",
            "Invoice {{ invoice_number }} needs funds",
            ("invoice_id", "invoice_number", "contract_id", "amount", "currency"),
            action_path="/payments/escrow",
        ),
        Kind(
            "withdrawal_requested", "Withdrawal Requested",
            "Your withdrawal of {{ amount | money(currency) }} was requested.",
            "Withdrawal of {{ amount | money(currency) }} requested",
            ("withdrawal_id", "amount", "currency"), action_path="/withdrawals",
        ),
        Kind(
            "withdrawal_completed", "Withdrawal Completed",
            "Your withdrawal of {{ amount | money(currency) }} has been paid out.",
            "Your withdrawal of {{ amount | money(currency) }} was paid",
            ("withdrawal_id", "amount", "currency"), action_path="/withdrawals",
        ),
        Kind(
            "withdrawal_failed", "Withdrawal Failed",
            "Your withdrawal of {{ amount | money(currency) }} could not be paid out"
            "{% if reason %}: {{ reason }}{% endif %}. The money is available in your wallet "
            "again.",
            "Your withdrawal of {{ amount | money(currency) }} failed",
            ("withdrawal_id", "amount", "currency", "reason"), action_path="/withdrawals",
        ),
        Kind(
            "withdrawal_reversed", "Withdrawal Returned",
            "Your bank returned the withdrawal of {{ amount | money(currency) }}"
            "{% if reason %} ({{ reason }}){% endif %}. The money, fee included, is back in "
            "your wallet.",
            "Your withdrawal of {{ amount | money(currency) }} was returned",
            ("withdrawal_id", "amount", "currency", "reason"), action_path="/withdrawals",
        ),
        Kind(
            "payout_new_account", "Payout to a New Account",
            "A withdrawal of {{ amount | money(currency) }} to a new payout account"
            "{% if account_last4 %} ending {{ account_last4 }}{% endif %} was requested."
            + _SECURITY_FOOTER,
            "Security alert: payout to a new account",
            ("withdrawal_id", "amount", "currency", "account_last4"), security=True,
            action_path="/withdrawals",
        ),
        Kind(
            "password_reset", "Password Changed",
            "Your password was reset on {{ occurred_at | datetime }}." + _SECURITY_FOOTER,
            "Security alert: your password was reset", security=True,
        ),
        Kind(
            "new_login", "New Sign-in",
            "New sign-in to your account{% if device %} from {{ device }}{% endif %} on "
            "{{ occurred_at | datetime }}." + _SECURITY_FOOTER,
            "Security alert: new sign-in", ("device",), security=True,
        ),
        Kind(
            "mfa_changed", "Two-factor Authentication Changed",
            "Two-factor authentication was {{ 'enabled' if mfa_enabled else 'disabled' }} on "
            "{{ occurred_at | datetime }}." + _SECURITY_FOOTER,
            "Security alert: two-factor authentication changed", ("mfa_enabled",), security=True,
        ),
        Kind(
            "company_claim_contested", "Your Company Was Claimed by Another Account",
            "Another account registered a company with your company's registry number. It was "
            "not verified and waits for an administrator's review; if you do not know about "
            "it, contact support.",
            "Security alert: another account claimed your company", security=True,
            action_path="/company",
        ),
        Kind(
            "digest", "Your notifications",
            "{{ count }} notifications {{ period_label }}",
            "Your Mind-Links summary: {{ count }} notifications {{ period_label }}",
            ("items", "count", "period_label"), channels=("email",),
            html=(
                "<p>Hello {{ recipient_name }},</p>\n"
                "<p>Here is what happened {{ period_label }}:</p>\n<ul>\n"
                "{% for item in items %}<li><strong>{{ item.title }}</strong>: "
                "{{ item.message }} <small>({{ item.created_at | datetime }})</small></li>\n"
                "{% endfor %}</ul>\n"
                '<p><a href="{{ app_url }}/notifications">Open your notifications</a></p>\n'
                '{% if unsubscribe_url %}<p style="font-size:12px;color:#666">'
                '<a href="{{ unsubscribe_url }}">Unsubscribe from these emails</a></p>'
                "{% endif %}"
            ),
            text=(
                "Hello {{ recipient_name }},\n\nHere is what happened {{ period_label }}:\n\n"
                "{% for item in items %}- {{ item.title }}: {{ item.message }} "
                "({{ item.created_at | datetime }})\n{% endfor %}\n"
                "Open your notifications: {{ app_url }}/notifications\n"
                "{% if unsubscribe_url %}\nUnsubscribe: {{ unsubscribe_url }}\n{% endif %}"
            ),
        ),
    ]
}

SECURITY_TYPES = frozenset(k.type for k in KINDS.values() if k.security)
# Types a user may opt out of (everything except security notices and the digest itself).
OPTIONAL_TYPES = frozenset(k for k in KINDS if k not in SECURITY_TYPES and k != "digest")


def default_sources(kind: Kind, channel: str) -> tuple[str | None, str, str | None]:
    """The default (subject, body, text_body) of `kind` on `channel`."""
    if channel == "in_app":
        return kind.title, kind.message, None
    if channel == "sms":
        return None, kind.sms or "Mind-Links: " + kind.message, None
    html = kind.html or (
        "<p>Hello {{ recipient_name }},</p>\n<p>" + kind.message + "</p>\n"
        '{% if action_url %}<p><a href="{{ action_url }}">View in Mind-Links</a></p>{% endif %}\n'
        '{% if unsubscribe_url %}<p style="font-size:12px;color:#666">'
        'You receive this email because of your notification settings. '
        '<a href="{{ unsubscribe_url }}">Unsubscribe</a></p>{% endif %}'
    )
    text = kind.text or (
        "Hello {{ recipient_name }},\n\n" + kind.message + "\n"
        "{% if action_url %}\nView in Mind-Links: {{ action_url }}\n{% endif %}"
        "{% if unsubscribe_url %}\nUnsubscribe: {{ unsubscribe_url }}\n{% endif %}"
    )
    return kind.subject, html, text


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def variables_from_payload(kind: Kind, payload: dict[str, Any]) -> dict[str, Any]:
    """The kind's own variables taken from an event payload (camelCase keys); absent -> None."""
    values = {snake(k): v for k, v in payload.items()}
    return {name: values.get(name) for name in kind.variables}


# Values for previews and for the test render done when an admin saves a template.
SAMPLE_VALUES: dict[str, Any] = {
    "recipient_name": "Ada Lovelace",
    "app_url": "https://app.mindlinks.example",
    "action_url": "https://app.mindlinks.example/contracts/8b9f",
    "occurred_at": "2024-12-01T09:30:00+00:00",
    "unsubscribe_url": "https://app.mindlinks.example/api/notifications/unsubscribe?token=x",
    "locale": "en_US",
    "timezone": "UTC",
    "fields": ["phone", "timezone"],
    "kyc_status": "verified",
    "contract_id": "8b9f2c1e-0000-4000-8000-000000000001",
    "contract_title": "Backend development",
    "client_name": "ABC Corp",
    "signer_name": "XYZ Ltd",
    "signed_by": "client",
    "timesheet_id": "8b9f2c1e-0000-4000-8000-000000000002",
    "contractor_name": "Ada Lovelace",
    "hours": 40,
    "period_start": "2024-11-25",
    "period_end": "2024-12-01",
    "reason": "Wednesday was a public holiday",
    "due_at": "2024-12-03T00:00:00+00:00",
    "amount": 5000.00,
    "currency": "USD",
    "payment_id": "8b9f2c1e-0000-4000-8000-000000000003",
    "withdrawal_id": "8b9f2c1e-0000-4000-8000-000000000004",
    "invoice_id": "8b9f2c1e-0000-4000-8000-000000000005",
    "invoice_number": "INV-2024-001",
    "due_date": "2024-11-15",
    "account_last4": "1234",
    "device": "Firefox on Linux",
    "mfa_enabled": True,
    "items": [{"title": "Payment Received", "message": "You received $5,000.00",
               "created_at": "2024-12-01T09:30:00+00:00"}],
    "count": 1,
    "period_label": "yesterday",
}

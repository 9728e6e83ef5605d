"""Configuration from `MINDLINKS_*` environment variables (and `.env`).

Every default works with no configuration at all: data, keys and mail live under
`MINDLINKS_DATA_DIR` (default `./var`) and the database is an embedded SQLite file.
`MINDLINKS_ENV=production` refuses to start on any of those development defaults.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MINDLINKS_", env_file=".env", extra="ignore", frozen=False
    )

    env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    data_dir: Path = Path("var")
    database_url: str | None = None
    database_echo: bool = False
    redis_url: str | None = None
    public_url: str | None = None
    cors_origins: list[str] = Field(default_factory=list)

    # Secrets. Empty means "generate once under data_dir/keys" (development only).
    secret_key: str | None = None
    jwt_private_key: str | None = None
    # PEM public keys of keys being rotated out: still accepted and listed in the JWKS.
    jwt_previous_public_keys: list[str] = Field(default_factory=list)
    jwt_issuer: str = "mindlinks"
    jwt_audience: str = "mindlinks-api"
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 7 * 24 * 3600
    session_absolute_ttl_seconds: int = 30 * 24 * 3600
    password_reset_ttl_seconds: int = 30 * 60
    email_verification_ttl_seconds: int = 48 * 3600
    mfa_token_ttl_seconds: int = 5 * 60

    # Throttling: failures tolerated per window before 429.
    login_failures_per_account: int = 5
    login_failures_per_ip: int = 20
    login_window_seconds: int = 15 * 60
    email_requests_per_ip_per_minute: int = 10
    password_resets_per_account_per_hour: int = 3
    registrations_per_ip_per_hour: int = 20
    registrations_per_hour: int = 1000

    # Passwords being chosen (register, invitation accept, reset, change) are checked against
    # known breaches (auth/providers.py): `sandbox` is a fixed sample list (offline), `hibp` Have
    # I Been Pwned's k-anonymity range API (production; fails open when unreachable), `off`.
    breached_password_check: Literal["sandbox", "hibp", "off"] = "sandbox"
    hibp_range_url: str = "https://api.pwnedpasswords.com/range/"
    breached_password_timeout_seconds: float = Field(default=2.0, gt=0, le=30)

    max_json_body_bytes: int = 1024 * 1024
    max_upload_body_bytes: int = 25 * 1024 * 1024

    # Email: files under data_dir/mail unless an SMTP host is set.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_use_tls: bool = False
    mail_from: str = "Mind-Links <no-reply@mindlinks.local>"

    # The event dispatcher runs inside `serve` unless a separate `mindlinks worker` does it.
    dispatcher_in_process: bool = True
    dispatcher_poll_seconds: float = 1.0
    # Start-up ends with a full garbage collection and `gc.freeze()` of what start-up built (see
    # app.lifespan). Off where many apps start in one process (the tests: one app per test),
    # where each freeze would keep the previous tests' objects for good.
    freeze_startup_objects: bool = True

    log_json: bool | None = None
    log_level: str = "INFO"
    # Fraction of the access-log lines of fast successful requests that are written (1 = all,
    # 0 = none); errors and requests slower than `access_log_slow_seconds` are always written.
    access_log_sample_rate: float = Field(default=1.0, ge=0.0, le=1.0)
    access_log_slow_seconds: float = 1.0
    # FastAPI's native OpenTelemetry spans, metrics and logs (used only once an OpenTelemetry
    # provider is configured in the process). Off, FastAPI skips its per-request check for
    # such a provider (~2 µs, three environment lookups, on every request).
    fastapi_telemetry: bool = False

    # Files (platform/storage.py) and field encryption (platform/crypto.py).
    storage_backend: Literal["local", "s3"] = "local"
    files_dir: Path | None = None  # local backend root; default data_dir/files
    s3_bucket: str | None = None
    s3_region: str | None = None
    s3_endpoint_url: str | None = None
    s3_access_key_id: str | None = None  # unset: boto3's own credential chain
    s3_secret_access_key: str | None = None
    signed_url_ttl_seconds: int = 3600
    # Master keys as a JSON list of "kid:base64(32 bytes)", newest first. Empty: a key is
    # generated under data_dir/keys (development only; production refuses it).
    encryption_keys: list[str] = Field(default_factory=list)

    # Client companies (clients/): business registry lookups and contractor invitations.
    business_registry: Literal["sandbox", "opencorporates"] = "sandbox"
    opencorporates_api_token: str | None = None
    opencorporates_base_url: str = "https://api.opencorporates.com/v0.4"
    business_registry_timeout_seconds: float = 10.0
    invitation_ttl_seconds: int = 7 * 24 * 3600
    invitations_per_client_per_hour: int = 20

    # Identity verification (kyc/): the sandbox provider (default: a page served by this app,
    # signed webhooks) or Veriff (API key = X-AUTH-CLIENT, shared secret = HMAC key).
    kyc_provider: Literal["sandbox", "veriff"] = "sandbox"
    kyc_sandbox_secret: str | None = None  # empty: derived from the secret key
    veriff_api_key: str | None = None
    veriff_shared_secret: str | None = None
    veriff_base_url: str = "https://stationapi.veriff.com"
    kyc_http_timeout_seconds: float = 10.0
    kyc_session_expiry_days: int = 7
    kyc_retention_days: int = 90
    # Each started session may cost a provider fee; uploads fill storage.
    kyc_starts_per_hour: int = 10
    kyc_uploads_per_hour: int = 30

    # Payments (payments/): the sandbox provider (a page served by this app, webhooks signed as
    # Stripe signs them) or Stripe (secret API key, webhook endpoint secret `whsec_...`).
    payments_provider: Literal["sandbox", "stripe"] = "sandbox"
    payments_sandbox_secret: str | None = None  # empty: derived from the secret key
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    # Stripe Connect events (payouts on connected accounts) come from a Connect endpoint with
    # its own signing secret; either secret verifies an event.
    stripe_connect_webhook_secret: str | None = None
    payments_webhook_tolerance_seconds: int = 300
    payments_deposit_max_minor: int = 100_000_000  # 1,000,000.00 in a 2-decimal currency
    # Maker-checker (RELIABILITY 31, docs/payments.md "Admin balance adjustments"): an admin
    # adjustment whose absolute amount is above this many minor units OF THE ACCOUNT'S CURRENCY
    # (100000 = 1,000.00 USD/EUR, but 100,000 JPY or 100.000 KWD) waits for a second admin; at
    # or below it executes at once. A pending one expires after `adjustment_approval_days`.
    adjustment_approval_minor: int = Field(default=100_000, ge=0, le=10**15)
    adjustment_approval_days: int = Field(default=7, ge=1, le=90)

    # FX (payments/fx.py, docs/payments.md "Fee and FX quotes"): the rates provider (`sandbox`:
    # fixed rates an admin may set; `ecb`: the ECB's daily reference rates), the spread the
    # platform keeps on a conversion (basis points of the converted amount, shown as fee.fx),
    # how long a quote holds its rate, and when rates count as stale (503 `fx_rates_stale`).
    fx_provider: Literal["sandbox", "ecb"] = "sandbox"
    fx_spread_bps: int = Field(default=50, ge=0, le=1000)
    fx_quote_ttl_seconds: int = Field(default=30 * 60, ge=60, le=24 * 3600)
    fx_max_rate_age_hours: int = Field(default=100, ge=1, le=24 * 14)
    fx_refresh_seconds: int = Field(default=3600, ge=60)
    fx_max_open_quotes: int = Field(default=20, ge=1, le=1000)
    # Withdrawal velocity (RELIABILITY 32): at most this many withdrawals per contractor in any
    # 24 hours (cancelled and failed ones included: each reached the payout rails or could
    # have); more is 429 `withdrawal_limit_exceeded`, counted under the wallet's lock.
    withdrawals_per_day: int = Field(default=20, ge=1, le=10_000)
    ecb_rates_url: str = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
    fx_http_timeout_seconds: float = 10.0

    # Notifications (notifications/): email via the platform backends (files, SMTP) or
    # SendGrid's v3 HTTP API; SMS to a dev file or Twilio; live updates fanned out through
    # Redis pub/sub when `redis_url` is set.
    notifications_email_backend: Literal["auto", "file", "smtp", "sendgrid"] = "auto"
    sendgrid_api_key: str | None = None
    sendgrid_base_url: str = "https://api.sendgrid.com"
    notifications_sms_backend: Literal["file", "twilio"] = "file"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_base_url: str = "https://api.twilio.com"
    notifications_http_timeout_seconds: float = 10.0
    notifications_max_attempts: int = 5
    notifications_retry_base_seconds: float = 30.0
    notifications_default_locale: str = "en_US"
    notifications_default_timezone: str = "UTC"
    notifications_redis_prefix: str = "mindlinks:notifications"
    notifications_sse_heartbeat_seconds: float = 15.0
    # An open stream re-checks its login this often (and before every event it sends).
    notifications_sse_liveness_seconds: float = 15.0
    notifications_max_streams_per_user: int = 5

    # Contracts (contracts/): the certificate that PAdES-signs fully signed contract PDFs, as a
    # PKCS#12 file or PEM key + certificate (+ chain). Unset: a self-signed CA and signing key
    # are generated under data_dir/keys (development only; refused in production). Trust roots
    # for `GET /api/contracts/{id}/verify`: these PEM files, else the chain's last certificate.
    contract_signing_pkcs12_path: Path | None = None
    contract_signing_pkcs12_password: str | None = None
    contract_signing_key_path: Path | None = None
    contract_signing_key_password: str | None = None
    contract_signing_cert_path: Path | None = None
    contract_signing_chain_paths: list[Path] = Field(default_factory=list)
    contract_signing_trust_roots: list[Path] = Field(default_factory=list)
    contract_signature_max_bytes: int = 256 * 1024

    # Timesheets (timesheets/): a week's timesheet is due at the end (UTC) of the day this many
    # days after its weekEnding (2: the Monday after); the daily reminder job looks back this
    # many days for weeks without a submitted timesheet (catch-up after downtime).
    timesheet_due_days: int = Field(default=2, ge=0, le=14)
    timesheet_reminder_lookback_days: int = Field(default=28, ge=7, le=366)

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'mindlinks.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://127.0.0.1:{self.port}").rstrip("/")

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    def production_problems(self) -> list[str]:
        """What makes this configuration unfit for production (empty when it is fit)."""
        problems = []
        if not self.secret_key:
            problems.append("MINDLINKS_SECRET_KEY is not set (a generated key would be used)")
        elif len(self.secret_key) < 32:
            problems.append("MINDLINKS_SECRET_KEY is shorter than 32 characters")
        if not self.jwt_private_key:
            problems.append("MINDLINKS_JWT_PRIVATE_KEY is not set (a generated key would be used)")
        if self.is_sqlite:
            problems.append("MINDLINKS_DATABASE_URL points at SQLite; production needs PostgreSQL")
        if not self.public_url:
            problems.append("MINDLINKS_PUBLIC_URL is not set (links in mail need a fixed host)")
        return problems


def get_settings() -> Settings:
    return Settings()

"""Request and response bodies of `/api/auth` (camelCase JSON)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import EmailStr, Field

from mindlinks.platform.api import EXAMPLE_ID_2, CamelModel, ResponseModel, seed_example

# Bounded so that a megabyte "password" cannot make argon2 and the policy check expensive;
# the policy itself (12..256) answers with `weak_password`.
PasswordField = Field(min_length=1, max_length=1024)


class RegisterRequest(CamelModel):
    email: EmailStr = Field(max_length=320)
    password: str = PasswordField
    role: Literal["client", "contractor"]
    name: str | None = Field(default=None, max_length=200)


class LoginRequest(CamelModel):
    # A plain string: a malformed address must answer exactly like an unknown one.
    email: str = Field(max_length=320)
    password: str = PasswordField


class MfaLoginRequest(CamelModel):
    mfa_token: str = Field(max_length=4096)
    code: str | None = Field(default=None, pattern=r"^\d{6}$")
    recovery_code: str | None = Field(default=None, max_length=64)


class RefreshRequest(CamelModel):
    refresh_token: str = Field(max_length=256)


_TOKENS_EXAMPLE = {
    "accessToken": "eyJhbGciOiJSUzI1NiIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiIuLi4ifQ.c2ln",
    "refreshToken": "Qm9vdHN0cmFwIHJlZnJlc2ggdG9rZW4gZXhhbXBsZQ",
    "tokenType": "Bearer", "expiresIn": 900,
}


class TokenPair(ResponseModel):
    model_config = seed_example(_TOKENS_EXAMPLE)

    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class MfaChallenge(ResponseModel):
    mfa_required: Literal[True] = True
    mfa_token: str


class User(ResponseModel):
    id: uuid.UUID
    email: str
    role: str
    status: str
    name: str | None
    email_verified: bool
    mfa_enabled: bool
    last_login: datetime | None
    created_at: datetime
    updated_at: datetime


class Registered(TokenPair):
    model_config = seed_example({**_TOKENS_EXAMPLE, "user": {
        "id": EXAMPLE_ID_2, "email": "john@example.com",
        "role": "contractor", "status": "active", "name": "John Doe", "emailVerified": False,
        "mfaEnabled": False, "lastLogin": None, "createdAt": "2024-01-01T00:00:00Z",
        "updatedAt": "2024-01-01T00:00:00Z",
    }})

    user: User


class PasswordChangeRequest(CamelModel):
    current_password: str = PasswordField
    new_password: str = PasswordField


class ForgotPasswordRequest(CamelModel):
    email: str = Field(max_length=320)


class ResetPasswordRequest(CamelModel):
    token: str = Field(max_length=256)
    new_password: str = PasswordField


class TokenRequest(CamelModel):
    token: str = Field(max_length=256)


class MfaEnrollment(ResponseModel):
    secret: str
    otpauth_uri: str


class MfaCodeRequest(CamelModel):
    code: str = Field(pattern=r"^\d{6}$")


class MfaConfirmed(ResponseModel):
    mfa_enabled: bool
    recovery_codes: list[str]


class MfaDisableRequest(CamelModel):
    code: str = Field(pattern=r"^\d{6}$")
    password: str = PasswordField


class Message(ResponseModel):
    message: str

"""Identity and access: accounts, sessions and refresh tokens, password reset, TOTP MFA."""

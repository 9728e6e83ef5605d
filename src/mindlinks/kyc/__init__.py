"""Identity verification (KYC): sessions, documents, provider webhooks, admin review."""

"""Contractors: profile and business profile, bank accounts with micro-deposit verification,
tax information, licences and insurance, documents, onboarding progress and achievements."""

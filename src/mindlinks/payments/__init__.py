"""Payments: the double-entry book, client escrow and funding (deposits through the payments
provider's signed webhooks). See docs/payments.md."""

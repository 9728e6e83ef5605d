"""Alembic migrations, run with `mindlinks migrate` (or `migrate.upgrade` from code)."""

"""The cross-tenant matrix builds its victims with the contracts tests' fixtures."""

from tests.contracts.conftest import flow, make_party  # noqa: F401

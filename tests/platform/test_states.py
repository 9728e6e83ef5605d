"""The one state-machine helper every domain uses: a table of allowed moves, 409 otherwise."""

from __future__ import annotations

import pytest

from mindlinks.contractors.credentials import LICENSE_STATES
from mindlinks.contracts.service import CONTRACT_STATES
from mindlinks.platform.errors import InvalidTransition
from mindlinks.platform.states import StateMachine

DOOR = StateMachine({"closed": {"open", "locked"}, "open": {"closed"}, "locked": {"closed"}})


def test_an_allowed_move_returns_its_target_and_another_is_409_invalid_transition() -> None:
    assert DOOR.check("closed", "open") == "open"
    with pytest.raises(InvalidTransition) as refused:
        DOOR.check("locked", "open")
    assert (refused.value.status, refused.value.code) == (409, "invalid_transition")
    with pytest.raises(InvalidTransition, match="still locked"):
        DOOR.check("locked", "open", "The door is still locked")
    assert DOOR.sources("closed") == {"open", "locked"}


def test_a_state_outside_the_table_has_no_way_out() -> None:
    with pytest.raises(InvalidTransition):
        DOOR.check("bricked", "closed")


def test_an_action_leads_where_the_current_state_says() -> None:
    # The second signature activates the contract; the first only records it.
    assert CONTRACT_STATES.after("pending", "sign_client") == "client_signed"
    assert CONTRACT_STATES.after("contractor_signed", "sign_client") == "active"
    with pytest.raises(InvalidTransition):
        CONTRACT_STATES.after("active", "sign_client")


def test_an_action_outside_the_transitions_is_refused_when_the_machine_is_built() -> None:
    with pytest.raises(ValueError, match="open -> locked"):
        StateMachine({"open": {"closed"}}, actions={"lock": {"open": "locked"}})


def test_an_expired_licence_can_be_edited_back_but_not_verified() -> None:
    assert LICENSE_STATES.after("expired", "edit") == "unverified"
    with pytest.raises(InvalidTransition):
        LICENSE_STATES.after("expired", "verify")
    assert LICENSE_STATES.sources("expired") == {"unverified", "verified"}

"""One shape for every state machine: a table `{from: {to, ...}}`, checked in one place.

    KYC_SESSION = StateMachine({PENDING: {PROCESSING, VERIFIED}, PROCESSING: {VERIFIED}})
    kyc.status = KYC_SESSION.check(kyc.status, VERIFIED)   # the target, or 409

Where the caller names an action and the target depends on the current state (the second
signature activates a contract), declare the actions; the table is derived from them:

    CONTRACT = StateMachine.from_actions({"send": {DRAFT: PENDING}, ...})
    contract.status = CONTRACT.after(contract.status, "send")

An impossible move raises `InvalidTransition` (409 `invalid_transition`). States are strings
(StrEnum members work as is); a state missing from the table has no way out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mindlinks.platform.errors import InvalidTransition


class StateMachine:
    def __init__(
        self,
        transitions: Mapping[str, Iterable[str]],
        *,
        actions: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.transitions: dict[str, frozenset[str]] = {
            source: frozenset(targets) for source, targets in transitions.items()
        }
        self.actions: dict[str, dict[str, str]] = {
            name: dict(edges) for name, edges in (actions or {}).items()
        }
        for name, edges in self.actions.items():
            for source, target in edges.items():
                if target not in self.transitions.get(source, ()):
                    raise ValueError(f"action {name!r}: {source} -> {target} is not a transition")

    @classmethod
    def from_actions(cls, actions: Mapping[str, Mapping[str, str]]) -> StateMachine:
        """A machine whose transitions are exactly the actions' edges."""
        transitions: dict[str, set[str]] = {}
        for edges in actions.values():
            for source, target in edges.items():
                transitions.setdefault(source, set()).add(target)
        return cls(transitions, actions=actions)

    def targets(self, current: str) -> frozenset[str]:
        return self.transitions.get(current, frozenset())

    def sources(self, target: str) -> frozenset[str]:
        """The states `target` can be reached from (for a bulk update's WHERE clause)."""
        return frozenset(s for s, targets in self.transitions.items() if target in targets)

    def can(self, current: str, target: str) -> bool:
        return target in self.targets(current)

    def check(self, current: str, target: str, detail: str | None = None) -> str:
        """`target` if the table allows `current -> target`, else 409 `invalid_transition`."""
        if not self.can(current, target):
            raise InvalidTransition(detail or f"Cannot go from {current} to {target}")
        return target

    def after(self, current: str, action: str, detail: str | None = None) -> str:
        """The state `action` leads to from `current`, else 409 `invalid_transition`."""
        target = self.actions[action].get(current)
        if target is None:
            raise InvalidTransition(detail or f"Cannot {action} from {current}")
        return target

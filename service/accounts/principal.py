"""Who is asking: the signed-in account with its roles, scopes and open onboarding steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from service.accounts.models import Role
from service.errors import ActionRequired, NotAllowed, Unauthenticated


class RequiredAction(str, Enum):
    SET_PASSWORD = "SET_PASSWORD"
    CONFIRM_DATA = "CONFIRM_DATA"


@dataclass(frozen=True)
class Principal:
    account_id: int
    username: str
    session_id: int | None
    roles: frozenset[Role]
    approver_scopes: tuple[int | None, ...] = ()  # organisation ids; None = everything
    contact_id: int | None = None
    organization_id: int | None = None
    required_actions: tuple[RequiredAction, ...] = field(default_factory=tuple)

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def primary_role(self) -> str:
        for role in (Role.ADMIN, Role.APPROVER, Role.CONTACT):
            if role in self.roles:
                return role.value
        return "NONE"


def require(principal: Principal | None, *roles: Role, allow_pending_actions: bool = False) -> Principal:
    """The gate every protected operation passes: signed in, onboarding done, one of `roles`."""
    if principal is None:
        raise Unauthenticated("Sign in first.")
    if principal.required_actions and not allow_pending_actions:
        names = ", ".join(a.value for a in principal.required_actions)
        raise ActionRequired(f"Finish these steps first: {names}.", details={"requiredActions": names})
    if roles and not principal.roles & set(roles):
        raise NotAllowed("You are not allowed to do this.")
    return principal

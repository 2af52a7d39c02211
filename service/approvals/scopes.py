"""Which approvers are responsible for what.

An approver is scoped to a state or district (or to everything). A record is in an
approver's scope when at least one of its partners lies inside that scope (for a
contact person: their municipality). A change touches up to two states of a record,
the one published and the one proposed, and is the approver's only when *both* are
in scope. So an out-of-scope record can never be taken over by adding an in-scope
partner, and an in-scope record can never be moved out of scope by removing the last
one; such changes need an approver whose scope covers both sides (or no scope).

Why "at least one partner" and not "every partner": cooperations cross district and
state borders (Unna towns with Dortmund, Saarland districts with Rhineland-Palatinate);
each partner's ministry answers for the records its municipalities take part in.
"every partner" would leave every cross-border record to the few unscoped approvers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from service.accounts.models import Account, AccountRole, Role
from service.accounts.principal import Principal
from service.catalogue.models import OrganizationAncestor


async def ancestors_of(organization_ids: Iterable[int]) -> set[int]:
    ids = list(set(organization_ids))
    if not ids:
        return set()
    return set(
        await OrganizationAncestor.filter(organization_id__in=ids).values_list("ancestor_id", flat=True)
    )


async def covers_all_states(principal: Principal, states: Sequence[set[int]]) -> bool:
    """Every given state of a record (published, proposed) has an organisation in the approver's scope."""
    if not principal.has(Role.APPROVER):
        return False
    if None in principal.approver_scopes:
        return True
    if not states:
        return False
    scope = set(principal.approver_scopes)
    for organization_ids in states:
        if not scope & await ancestors_of(organization_ids):
            return False
    return True


async def approvers_covering(organization_ids: Iterable[int]) -> list[Account]:
    return await approvers_covering_all_states([set(organization_ids)])


async def approvers_covering_all_states(states: Sequence[set[int]]) -> list[Account]:
    """The active approvers who may decide on a change touching these states of a record."""
    ancestors = [await ancestors_of(s) for s in states]
    rows = await AccountRole.filter(role=Role.APPROVER).values("account_id", "scope_id")
    scopes_of: dict[int, set[int | None]] = {}
    for r in rows:
        scopes_of.setdefault(r["account_id"], set()).add(r["scope_id"])
    account_ids = {
        account_id for account_id, account_scopes in scopes_of.items()
        if None in account_scopes or (ancestors and all(account_scopes & a for a in ancestors))
    }
    if not account_ids:
        return []
    return await Account.filter(id__in=account_ids, is_active=True, deleted_at__isnull=True).order_by("id")

"""Which approvers are responsible for what.

An approver is scoped to a state or district (or to everything); a change is theirs
when it touches an organisation inside their scope: for a cooperation any partner
(before or after the change), for a contact person their municipality.
"""

from __future__ import annotations

from collections.abc import Iterable

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


async def covers(principal: Principal, organization_ids: Iterable[int]) -> bool:
    if not principal.has(Role.APPROVER):
        return False
    if None in principal.approver_scopes:
        return True
    return bool(set(principal.approver_scopes) & await ancestors_of(organization_ids))


async def approvers_covering(organization_ids: Iterable[int]) -> list[Account]:
    ancestors = await ancestors_of(organization_ids)
    rows = await AccountRole.filter(role=Role.APPROVER).values("account_id", "scope_id")
    account_ids = {r["account_id"] for r in rows if r["scope_id"] is None or r["scope_id"] in ancestors}
    if not account_ids:
        return []
    return await Account.filter(id__in=account_ids, is_active=True, deleted_at__isnull=True).order_by("id")

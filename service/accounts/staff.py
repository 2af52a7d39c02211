"""Ministry accounts (approvers, admins) managed by an admin: list, create, disable.

A new account gets no password from the admin: it is created with a random one nobody knows,
and the person is mailed a reset link to choose their own (`ikz create-user` stays for the first admin).
"""

from __future__ import annotations

import secrets

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from service import audit
from service.accounts import authentication, sessions
from service.accounts.models import Account, AccountRole, Role
from service.accounts.principal import Principal, require
from service.accounts.users import create_user, find_scope
from service.audit import AuditAction
from service.errors import InvalidInput, NotAllowed, NotFound

STAFF_ROLES = (Role.ADMIN, Role.APPROVER)


async def list_staff(principal: Principal, *, search: str | None = None,
                     limit: int = 200) -> list[tuple[Account, list[AccountRole]]]:
    """`search` narrows by username, name or address: past `limit` accounts it is the way to find one."""
    require(principal, Role.ADMIN)
    ids = await AccountRole.filter(role__in=list(STAFF_ROLES)).distinct().values_list("account_id", flat=True)
    query = Account.filter(id__in=list(set(ids)), deleted_at__isnull=True)
    for word in (search or "").split():
        query = query.filter(Q(username__icontains=word) | Q(first_name__icontains=word)
                             | Q(last_name__icontains=word) | Q(email__icontains=word))
    accounts = await query.order_by("username").limit(limit)
    roles: dict[int, list[AccountRole]] = {}
    for role in await AccountRole.filter(account_id__in=[a.id for a in accounts]).order_by("id"):
        roles.setdefault(role.account_id, []).append(role)
    return [(a, roles.get(a.id, [])) for a in accounts]


async def create_staff(principal: Principal, *, username: str, email: str, first_name: str, last_name: str,
                       role: Role, scope: str | None) -> Account:
    require(principal, Role.ADMIN)
    if role not in STAFF_ROLES:
        raise InvalidInput("A ministry account is an ADMIN or an APPROVER.", field="role")
    scope_id = None
    if role is Role.APPROVER and scope and scope.strip():
        try:
            scope_id = await find_scope(scope.strip())
        except Exception as exc:  # unknown AGS or name
            raise InvalidInput("No state or district with this key or name.", field="scope") from exc
    account = await create_user(username=username, email=email, first_name=first_name, last_name=last_name,
                                password="Start-" + secrets.token_urlsafe(24), roles=[(role, scope_id)],
                                actor_id=principal.account_id)
    await authentication.request_password_reset(account.username)  # the person sets their own password
    return account


async def disable_staff(principal: Principal, account_id: int) -> Account:
    require(principal, Role.ADMIN)
    if account_id == principal.account_id:
        raise NotAllowed("You cannot disable your own account.")
    async with in_transaction():
        account = await Account.get_or_none(id=account_id, deleted_at__isnull=True)
        if account is None or not await AccountRole.exists(account_id=account_id, role__in=list(STAFF_ROLES)):
            raise NotFound(f"No ministry account with id {account_id}.")
        await Account.filter(id=account_id).update(is_active=False)
        await sessions.revoke_all(account_id)
        await audit.record(AuditAction.USER_DISABLED, actor_id=principal.account_id, actor_role=Role.ADMIN.value,
                           subject_type="account", subject_id=account_id)
    account.is_active = False
    return account

"""Staff accounts (ministry admins and approvers), created from the shell."""

from __future__ import annotations

import re

from tortoise.transactions import in_transaction

from service import audit
from service.accounts import passwords
from service.accounts.contact_data import EMAIL
from service.accounts.models import Account, AccountRole, Role
from service.audit import AuditAction
from service.catalogue.models import Organization, OrganizationKind
from service.errors import Conflict, InvalidInput, NotFound
from service.time import now

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


async def find_scope(reference: str) -> int:
    """An approver scope by id, official key (AGS) or seed key; it must be a state or district."""
    reference = reference.strip()
    org = None
    if reference.isdigit() and len(reference) in (2, 3, 5, 8):
        org = await Organization.get_or_none(ags=reference)
    if org is None and reference.isdigit():
        org = await Organization.get_or_none(id=int(reference))
    if org is None:
        org = await Organization.get_or_none(key=reference)
    if org is None:
        raise NotFound(f"No state or district {reference!r}.")
    if org.kind not in (OrganizationKind.STATE, OrganizationKind.DISTRICT):
        raise InvalidInput(f"{org.name} is not a state or district; approvers are scoped to those.")
    return org.id


async def create_user(*, username: str, email: str, first_name: str, last_name: str, password: str,
                      roles: list[tuple[Role, int | None]], actor_id: int | None = None) -> Account:
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise InvalidInput("A username has 2–64 characters: a–z, 0–9, '.', '_' or '-'.", field="username")
    if not EMAIL.match(email.strip()):
        raise InvalidInput("Not a valid e-mail address.", field="email")
    if not roles:
        raise InvalidInput("Give at least one role.", field="role")
    passwords.check_policy(password, username=username, field="password")
    if await Account.exists(username=username):
        raise Conflict(f"The username {username!r} is taken (usernames are never reused).", field="username")
    async with in_transaction():
        account = await Account.create(
            username=username, email=email.strip(), first_name=first_name.strip() or None,
            last_name=last_name.strip() or None, password_hash=await passwords.hash_password(password),
            password_set_at=now(),
        )
        for role, scope in dict.fromkeys(roles):
            await AccountRole.create(account_id=account.id, role=role, scope_id=scope if role is Role.APPROVER else None)
        await audit.record(AuditAction.USER_CREATED, actor_id=actor_id, actor_role="ADMIN" if actor_id else "SYSTEM",
                           subject_type="account", subject_id=account.id,
                           details={"roles": sorted({r.value for r, _ in roles})})
    return account

"""Account types: the signed-in person, role assignments and the private view of a contact."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from service.accounts.contact_data import ContactData
from service.accounts.models import Account, AccountRole, Role
from service.accounts.principal import Principal, RequiredAction
from service.catalogue.models import Contact, ContactState
from schema.catalogue.types import Cooperation, Municipality, load_municipality

RoleEnum = strawberry.enum(Role, name="Role")
RequiredActionEnum = strawberry.enum(RequiredAction, name="RequiredAction")
ContactStateEnum = strawberry.enum(ContactState, name="ContactState")


@strawberry.type
class RoleAssignment:
    role: RoleEnum
    scope_id: strawberry.Private[int | None]

    @strawberry.field(description="For approvers: the state or district they approve for; null means everything.")
    async def scope(self, info: Info) -> Municipality | None:
        return await load_municipality(info, self.scope_id)


@strawberry.type(description="A contact person's own record, with the fields the public never sees.")
class ContactRecord:
    id: strawberry.ID
    state: ContactStateEnum
    salutation: str | None
    title: str | None
    first_name: str | None
    last_name: str | None
    function: str | None
    email: str | None
    phone: str | None
    consent_at: dt.datetime | None
    confirmed_at: dt.datetime | None
    last_approved_change_at: dt.datetime | None
    version: int = strawberry.field(description="Pass it as baseVersion when proposing a change.")
    username: str | None
    invited_at: dt.datetime | None
    organization_id: strawberry.Private[int | None]

    @strawberry.field
    async def municipality(self, info: Info) -> Municipality | None:
        return await load_municipality(info, self.organization_id)

    @strawberry.field(description="The cooperations this person is named as contact for.")
    async def cooperations(self, info: Info) -> list[Cooperation]:
        ids = await info.context.account_loaders.cooperation_ids_of_contact.load(int(self.id))
        found = await info.context.loaders.cooperation.load_many(ids)
        return [c for c in found if c is not None]


async def contact_record(contact: Contact, account: Account | None = None) -> ContactRecord:
    return contact_record_of(contact, account or await Account.get_or_none(contact_id=contact.id))


async def load_contact_record(info: Info, contact_id: int | None) -> ContactRecord | None:
    """A contact's record through the request's batching loaders (None for no or an unknown id)."""
    if contact_id is None:
        return None
    loaders = info.context.account_loaders
    contact = await loaders.contact.load(contact_id)
    if contact is None:
        return None
    return contact_record_of(contact, await loaders.account_of_contact.load(contact_id))


def contact_record_of(contact: Contact, account: Account | None) -> ContactRecord:
    """The record of `contact` with its account (None: the contact has none)."""
    return ContactRecord(
        id=strawberry.ID(str(contact.id)),
        state=contact.state,
        salutation=contact.salutation,
        title=contact.title,
        first_name=contact.first_name,
        last_name=contact.last_name,
        function=contact.function,
        email=contact.email,
        phone=contact.phone,
        consent_at=contact.consent_at,
        confirmed_at=contact.confirmed_at,
        last_approved_change_at=contact.last_approved_change_at,
        version=contact.version,
        username=account.username if account else None,
        invited_at=account.invited_at if account else None,
        organization_id=contact.organization_id,
    )


@strawberry.type(description="The signed-in account.")
class Me:
    id: strawberry.ID
    username: str
    email: str | None
    roles: list[RoleAssignment]
    required_actions: list[RequiredActionEnum] = strawberry.field(
        description="Steps to finish before anything else is allowed (onboarding)."
    )
    contact_id: strawberry.Private[int | None]

    @strawberry.field(description="Your own contact record, if you are a contact person.")
    async def contact(self, info: Info) -> ContactRecord | None:
        return await load_contact_record(info, self.contact_id)


async def me_object(principal: Principal) -> Me:
    account = await Account.get(id=principal.account_id)
    roles = await AccountRole.filter(account_id=account.id).order_by("id").values("role", "scope_id")
    return Me(
        id=strawberry.ID(str(account.id)),
        username=account.username,
        email=account.email,
        roles=[RoleAssignment(role=Role(r["role"]), scope_id=r["scope_id"]) for r in roles],
        required_actions=list(principal.required_actions),
        contact_id=account.contact_id,
    )


@strawberry.type
class AuthPayload:
    token: str = strawberry.field(description="Send as 'Authorization: Bearer <token>'; also set as HttpOnly cookie.")
    expires_at: dt.datetime
    me: Me


@strawberry.input(description="A contact person's personal data.")
class ContactDataInput:
    first_name: str
    last_name: str
    email: str
    salutation: str | None = None
    title: str | None = None
    function: str | None = None
    phone: str | None = None

    def to_data(self) -> ContactData:
        return contact_data(self)


def contact_data(value) -> ContactData:
    """The personal fields of either input type."""
    return ContactData(
        first_name=value.first_name, last_name=value.last_name, email=value.email, salutation=value.salutation,
        title=value.title, function=value.function, phone=value.phone,
    )


@strawberry.input(description="A new contact person, created by the ministry.")
class CreateContactInput:
    municipality_id: strawberry.ID
    first_name: str
    last_name: str
    email: str
    salutation: str | None = None
    title: str | None = None
    function: str | None = None
    phone: str | None = None
    cooperation_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Cooperations of the municipality this person is the contact for."
    )

    def to_data(self) -> ContactData:
        return contact_data(self)


@strawberry.type(description="The data an invitation asks its holder to confirm (visible only with the link's token).")
class InvitationContact:
    salutation: str | None
    title: str | None
    first_name: str | None
    last_name: str | None
    function: str | None
    email: str | None
    phone: str | None


@strawberry.type(description="An activation link that is still valid.")
class Invitation:
    username: str
    municipality: str | None = strawberry.field(description="The name of the contact person's municipality.")
    contact: InvitationContact | None = strawberry.field(description="Null for an account without contact data.")


@strawberry.type(description="The answer to acceptInvitation.")
class InvitationAccepted:
    username: str
    contact_state: ContactStateEnum | None = strawberry.field(
        description="PUBLIC when the confirmed data went public at once, AWAITING_APPROVAL when changed data wait "
        "for the ministry; null for an account without contact data.")

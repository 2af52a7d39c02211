"""Sign-in, onboarding and self-service operations."""

from __future__ import annotations

import strawberry
from starlette.background import BackgroundTask
from strawberry.scalars import JSON
from strawberry.types import Info

from service.accounts import authentication, onboarding, self_service, sessions
from service.accounts.models import Account, Role, Session
from service.accounts.onboarding import NewContact
from service.catalogue.models import Contact
from schema.accounts.types import (
    AuthPayload,
    ContactDataInput,
    ContactRecord,
    CreateContactInput,
    Invitation,
    InvitationAccepted,
    InvitationContact,
    Me,
    contact_record,
    me_object,
)
from schema.approvals.types import Change, change_object
from schema.auth import clear_session_cookie, principal, set_session_cookie
from schema.common import parse_id, parse_ids


async def _signed_in(info: Info, token: str, who) -> AuthPayload:
    session = await Session.get(id=who.session_id)
    set_session_cookie(info.context.response, token, session.expires_at, info.context.settings)
    info.context.principal = who
    return AuthPayload(token=token, expires_at=session.expires_at, me=await me_object(who))


@strawberry.type
class AccountQuery:
    @strawberry.field(description="The signed-in account, or null.")
    async def me(self, info: Info) -> Me | None:
        who = info.context.principal
        return await me_object(who) if who else None

    @strawberry.field(description="The invitation behind an activation link's token (the link's holder sees the "
                      "data to confirm); null when the token is unknown, used or expired.")
    async def invitation(self, token: str) -> Invitation | None:
        found = await authentication.describe_invitation(token[:200])
        if found is None:
            return None
        c = found.contact
        contact = InvitationContact(
            salutation=c.salutation, title=c.title, first_name=c.first_name, last_name=c.last_name,
            function=c.function, email=c.email, phone=c.phone,
        ) if c is not None else None
        return Invitation(username=found.username, municipality=found.municipality, contact=contact)

    @strawberry.field(description="Everything the service holds about you, as one exportable document.")
    async def my_data(self, info: Info) -> JSON:
        return await self_service.my_data(principal(info, allow_pending_actions=True))


@strawberry.type
class AccountMutation:
    @strawberry.mutation(description="Sign in. Failures always answer the same message.")
    async def login(self, info: Info, username: str, password: str) -> AuthPayload:
        token, who = await authentication.login(username[:200], password[:1024], info.context.client_address)
        return await _signed_in(info, token, who)

    @strawberry.mutation
    async def logout(self, info: Info) -> bool:
        who = info.context.principal
        if who is not None:
            await authentication.logout(who)
        clear_session_cookie(info.context.response, info.context.settings)
        return True

    @strawberry.mutation(description="Set the first password with the token from the invitation mail.")
    async def activate_account(self, info: Info, token: str, new_password: str) -> AuthPayload:
        session_token, who = await authentication.activate_with_token(token, new_password)
        return await _signed_in(info, session_token, who)

    @strawberry.mutation(description="The activation page in one step: the first password with the invitation "
                         "token and, for a contact person, the confirmation of their data with consent. All or "
                         "nothing (the link stays usable on an error); signs nobody in.")
    async def accept_invitation(self, token: str, new_password: str, input: ContactDataInput | None = None,
                                consent: bool = False) -> InvitationAccepted:
        username, state = await authentication.accept_invitation(
            token, new_password, input.to_data() if input is not None else None, consent)
        return InvitationAccepted(username=username, contact_state=state)

    @strawberry.mutation(description="Change the password (the initial one, too); other sessions end.")
    async def change_password(self, info: Info, current_password: str, new_password: str) -> Me:
        who = principal(info, allow_pending_actions=True)
        await authentication.change_password(who, current_password, new_password)
        return await me_object(await sessions.principal_for(await Account.get(id=who.account_id),
                                                            session_id=who.session_id))

    @strawberry.mutation(description="Confirm your contact data for publication; consent is required.")
    async def confirm_my_data(self, info: Info, input: ContactDataInput, consent: bool) -> ContactRecord:
        who = principal(info, allow_pending_actions=True)
        contact = await self_service.confirm_my_data(who, input.to_data(), consent)
        return await contact_record(contact)

    @strawberry.mutation(description="Mails a one-time reset link if the account exists; always answers true.")
    async def request_password_reset(self, info: Info, username_or_email: str) -> bool:
        # The work runs after the response, so the answer takes the same time either way.
        info.context.response.background = BackgroundTask(
            authentication.request_password_reset, username_or_email[:254], info.context.client_address
        )
        return True

    @strawberry.mutation
    async def reset_password(self, token: str, new_password: str) -> bool:
        await authentication.reset_password(token, new_password)
        return True

    @strawberry.mutation(description="ADMIN: create a contact person and mail the invitation.")
    async def create_contact(self, info: Info, input: CreateContactInput) -> ContactRecord:
        who = principal(info, Role.ADMIN)
        contact, account = await onboarding.create_and_invite(
            NewContact(
                organization_id=parse_id(input.municipality_id, "municipal body", field="municipalityId"),
                data=input.to_data(),
                cooperation_ids=parse_ids(input.cooperation_ids, "cooperation", "cooperationIds"),
            ),
            actor=who,
        )
        return await contact_record(contact, account)

    @strawberry.mutation(description="ADMIN: new initial password and link; the earlier ones stop working.")
    async def resend_invitation(self, info: Info, contact_id: strawberry.ID) -> ContactRecord:
        who = principal(info, Role.ADMIN)
        cid = parse_id(contact_id, "contact person", field="contactId")
        await onboarding.resend_invitation(cid, actor=who)
        return await contact_record(await Contact.get(id=cid))

    @strawberry.mutation(description="Propose new contact data; the public keeps the approved data until approval.")
    async def update_my_contact(self, info: Info, input: ContactDataInput, base_version: int) -> Change:
        who = principal(info, Role.CONTACT)
        return await change_object(await self_service.update_my_contact(who, input.to_data(), base_version))

    @strawberry.mutation(description="Delete your personal data at once; your account is closed.")
    async def delete_my_contact(self, info: Info) -> bool:
        who = principal(info, Role.CONTACT, allow_pending_actions=True)
        await self_service.delete_my_contact(who)
        clear_session_cookie(info.context.response, info.context.settings)
        return True

"""Proposals, reviews and direct edits."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from service.accounts.models import Role
from service.approvals import changes, review
from service.approvals.batch import Batch
from service.approvals.models import ChangeStatus
from service.catalogue import cooperations as coop_service
from service.catalogue import editing
from service.catalogue.editing import CooperationData
from service.errors import InvalidInput
from service.time import now
from schema.approvals.types import Change, ChangeKindEnum, ChangeStatusEnum, CooperationInput, change_object
from schema.auth import principal
from schema.catalogue.build import build_cooperations
from schema.catalogue.types import Cooperation
from schema.common import parse_id


async def _published(cooperation_id: int) -> CooperationData:
    return await editing.snapshot(cooperation_id)


async def _cooperation(info: Info, cooperation_id: int) -> Cooperation:
    view = await coop_service.get(cooperation_id)
    return (await build_cooperations([view], info.context, None))[0]


@strawberry.input
class ChangeFilter:
    statuses: list[ChangeStatusEnum] | None = strawberry.field(default=None, description="Default: PENDING.")
    kinds: list[ChangeKindEnum] | None = None
    cooperation_id: strawberry.ID | None = None


@strawberry.type
class ApprovalQuery:
    @strawberry.field(description=(
        "Changes you may see: approvers those in their scope, admins all, contact persons their own. "
        "Ordered by id; page with 'after' (the last id seen)."
    ))
    async def pending_changes(self, info: Info, filter: ChangeFilter | None = None, first: int = 50,
                              after: strawberry.ID | None = None) -> list[Change]:
        who = principal(info)
        if not 1 <= first <= 100:
            raise InvalidInput("'first' must be between 1 and 100.", field="first")
        flt = filter or ChangeFilter()
        service_filter = review.ChangeFilter(
            statuses=tuple(flt.statuses) if flt.statuses else (ChangeStatus.PENDING,),
            kinds=tuple(flt.kinds or ()),
            cooperation_id=parse_id(flt.cooperation_id, "cooperation", field="cooperationId") if flt.cooperation_id else None,
        )
        rows = await review.visible_changes(who, service_filter, limit=first,
                                            after_id=parse_id(after, "change", field="after") if after else None)
        batch = await Batch.load(rows, scopes=False)  # titles and people for the whole page at once
        return [await change_object(c, batch) for c in rows]

    @strawberry.field
    async def change(self, info: Info, id: strawberry.ID) -> Change | None:
        who = principal(info)
        return await change_object(await review.get_visible(who, parse_id(id, "change")))


@strawberry.type
class ApprovalMutation:
    @strawberry.mutation(description="Propose a new state of a cooperation your municipality takes part in.")
    async def propose_cooperation_change(self, info: Info, cooperation_id: strawberry.ID, input: CooperationInput,
                                         base_version: int) -> Change:
        who = principal(info, Role.CONTACT)
        cid = parse_id(cooperation_id, "cooperation", field="cooperationId")
        data = input.to_data(await _published(cid), now().date())
        return await change_object(await changes.propose_cooperation_change(who, cid, data, base_version))

    @strawberry.mutation(description="Propose a new cooperation; your municipality must be a partner.")
    async def propose_cooperation(self, info: Info, input: CooperationInput) -> Change:
        who = principal(info, Role.CONTACT)
        return await change_object(await changes.propose_cooperation(who, input.to_data(None, now().date())))

    @strawberry.mutation(description="APPROVER: publish a pending change (within your scope).")
    async def approve_change(self, info: Info, id: strawberry.ID, comment: str | None = None) -> Change:
        who = principal(info, Role.APPROVER)
        return await change_object(await review.approve(who, parse_id(id, "change"), comment))

    @strawberry.mutation(description="APPROVER: reject a pending change; the reason goes to the submitter.")
    async def reject_change(self, info: Info, id: strawberry.ID, reason: str) -> Change:
        who = principal(info, Role.APPROVER)
        return await change_object(await review.reject(who, parse_id(id, "change"), reason))

    @strawberry.mutation(description="ADMIN or APPROVER: edit a cooperation directly (recorded as approved).")
    async def update_cooperation(self, info: Info, id: strawberry.ID, input: CooperationInput,
                                 base_version: int) -> Cooperation:
        who = principal(info, Role.ADMIN, Role.APPROVER)
        cid = parse_id(id, "cooperation")
        data = input.to_data(await _published(cid), now().date())
        await changes.edit_cooperation_directly(who, cid, data, base_version)
        return await _cooperation(info, cid)

    @strawberry.mutation(description="ADMIN or APPROVER: create a cooperation directly (recorded as approved).")
    async def create_cooperation(self, info: Info, input: CooperationInput) -> Cooperation:
        who = principal(info, Role.ADMIN, Role.APPROVER)
        created = await changes.edit_cooperation_directly(who, None, input.to_data(None, now().date()), None)
        return await _cooperation(info, created.id)



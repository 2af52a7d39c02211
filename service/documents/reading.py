"""Which documents whom: the public sees published ones only; staff in scope and the submitter
also see proposed, rejected and withdrawn ones (for review and the record)."""

from __future__ import annotations

from collections import defaultdict

from service.accounts.models import Role
from service.accounts.principal import Principal
from service.documents.models import Document, DocumentState

# Everything but the extracted text and its words (up to a megabyte each): lists never need them.
LISTED = ("id", "cooperation_id", "title", "kind", "document_date", "file_name", "content_type", "size", "sha256",
          "state", "change_id", "created_by_id", "created_at", "published_at", "withdrawn_at")


async def published_of(cooperation_ids: list[int]) -> dict[int, list[Document]]:
    """The published documents of several cooperations in one statement: newest date first."""
    grouped: dict[int, list[Document]] = defaultdict(list)
    if not cooperation_ids:
        return grouped
    rows = await Document.filter(cooperation_id__in=list(set(cooperation_ids)), state=DocumentState.PUBLISHED).only(*LISTED)
    # Without a date last; equal dates by id (the order they were attached in).
    rows.sort(key=lambda d: (d.document_date is None, -(d.document_date.toordinal() if d.document_date else 0), d.id))
    for row in rows:
        grouped[row.cooperation_id].append(row)
    return grouped


async def may_see(principal: Principal | None, document: Document) -> bool:
    if document.state is DocumentState.PUBLISHED:
        return True
    if principal is None or principal.required_actions:
        return False
    if principal.has(Role.ADMIN):
        return True
    if document.created_by_id == principal.account_id and document.state is not DocumentState.WITHDRAWN:
        return True
    if principal.has(Role.APPROVER):
        from service.documents.publishing import in_scope

        return await in_scope(principal, document.cooperation_id)
    return False


async def visible(principal: Principal | None, document_id: int) -> Document | None:
    """The document if this principal may see it, else None (unknown and hidden look the same)."""
    document = await Document.filter(id=document_id).only(*LISTED).first()
    if document is None or not await may_see(principal, document):
        return None
    return document

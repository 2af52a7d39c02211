"""Attaching, proposing, publishing and withdrawing documents.

Every write that changes what the public sees runs in one transaction, in the lock order every
writer of a cooperation uses (the cooperation row first, then the document or change row):

- `attach_document`: ADMIN, or an APPROVER with the cooperation in scope, publishes at once.
- `propose_document`: a contact person of a partner municipality; the document stays PROPOSED
  (invisible) in a pending change of kind DOCUMENT_ADD until an approver decides.
- `publish_proposed` / `reject_proposed`: called by `approvals.review.approve` / `reject` inside
  their transaction.
- `withdraw_document`: ADMIN or APPROVER in scope; the document leaves the public record.

Each publication or withdrawal recomputes the cooperation's search document (`editing.reindex`),
so a search finds a cooperation by a word in its published statute, and no longer once it is
withdrawn.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import BinaryIO

from tortoise.transactions import in_transaction

from service import audit, publication
from service.accounts.models import Role
from service.accounts.principal import Principal, require
from service.approvals import scopes
from service.approvals.models import ChangeKind, ChangeRequest
from service.audit import AuditAction
from service.catalogue import editing
from service.catalogue.models import Cooperation, CooperationPartner
from service.config import get_settings
from service.documents.intake import DocumentMeta, Inspected, check_meta, inspect
from service.documents.models import KIND_LABELS, Document, DocumentState
from service.documents.storage import get_storage
from service.errors import Conflict, InvalidInput, NotAllowed, NotFound
from service.time import now


async def in_scope(principal: Principal, cooperation_id: int) -> bool:
    """ADMIN always; an APPROVER when the cooperation (as published) lies in their scope."""
    if principal.has(Role.ADMIN):
        return True
    partners = set(await CooperationPartner.filter(cooperation_id=cooperation_id)
                   .values_list("organization_id", flat=True))
    return await scopes.covers_all_states(principal, [partners])


async def _store(stream: BinaryIO, inspected: Inspected) -> None:
    stream.seek(0)
    sha256 = await asyncio.to_thread(get_storage().put, stream)
    if sha256 != inspected.sha256:  # the upload changed under us: refuse rather than store a surprise
        raise InvalidInput("The file changed while it was read; send it again.", field="file")


def _new_document(cooperation_id: int, meta: DocumentMeta, inspected: Inspected, state: DocumentState,
                  account_id: int, moment: dt.datetime) -> Document:
    return Document(
        cooperation_id=cooperation_id, title=meta.title, kind=meta.kind, document_date=meta.date,
        file_name=inspected.file_name, content_type=inspected.file_type.content_type, size=inspected.size,
        sha256=inspected.sha256, text=inspected.text, search_words=inspected.search_words, state=state,
        created_by_id=account_id, published_at=moment if state is DocumentState.PUBLISHED else None,
    )


async def _lock(cooperation_id: int) -> Cooperation:
    cooperation = await editing.lock_cooperation(cooperation_id)
    if cooperation is None:
        raise NotFound(f"No cooperation with id {cooperation_id}.", field="cooperationId")
    return cooperation


async def attach_document(principal: Principal, cooperation_id: int, meta: DocumentMeta, stream: BinaryIO,
                          file_name: str | None, *, max_bytes: int | None = None) -> Document:
    """Publish a document on a cooperation at once (ADMIN, or APPROVER in scope). One transaction."""
    require(principal, Role.ADMIN, Role.APPROVER)
    meta = check_meta(meta)
    if not await Cooperation.exists(id=cooperation_id):
        raise NotFound(f"No cooperation with id {cooperation_id}.", field="cooperationId")
    if not await in_scope(principal, cooperation_id):
        raise NotAllowed("This cooperation is outside your approval scope.")
    inspected = await inspect(stream, file_name, max_bytes or get_settings().document_max_bytes)
    moment = now()
    async with in_transaction():
        await _lock(cooperation_id)
        if not await in_scope(principal, cooperation_id):  # the partners may have changed meanwhile
            raise NotAllowed("This cooperation is outside your approval scope.")
        await _store(stream, inspected)
        document = _new_document(cooperation_id, meta, inspected, DocumentState.PUBLISHED, principal.account_id,
                                 moment)
        await document.save()
        await editing.reindex(cooperation_id)
        await audit.record(AuditAction.DOCUMENT_ATTACHED, actor_id=principal.account_id,
                           actor_role=principal.primary_role, subject_type="cooperation", subject_id=cooperation_id,
                           details={"documentId": document.id, "sha256": inspected.sha256, "size": inspected.size,
                                    "contentType": document.content_type})
        await publication.bump()  # last: after the record locks (see service/publication.py)
    return document


def proposal_payload(document: Document) -> dict:
    """What a DOCUMENT_ADD change stores: the document as the reviewer reads it."""
    return {"document": {
        "id": document.id, "title": document.title, "kind": document.kind.value,
        "date": document.document_date.isoformat() if document.document_date else None,
        "file_name": document.file_name, "content_type": document.content_type, "size": document.size,
    }}


async def propose_document(principal: Principal, cooperation_id: int, meta: DocumentMeta, stream: BinaryIO,
                           file_name: str | None, *, max_bytes: int | None = None) -> ChangeRequest:
    """A contact person proposes a document for a cooperation of their municipality (a pending change)."""
    from service.approvals.changes import lock_own_contact, submit

    require(principal, Role.CONTACT)
    if principal.organization_id is None:
        raise NotAllowed("Your account is not linked to a municipality.")
    meta = check_meta(meta)
    if not await Cooperation.exists(id=cooperation_id):
        raise NotFound(f"No cooperation with id {cooperation_id}.", field="cooperationId")
    if not await CooperationPartner.exists(cooperation_id=cooperation_id, organization_id=principal.organization_id):
        raise NotAllowed("You may only propose documents for cooperations your municipality takes part in.")
    inspected = await inspect(stream, file_name, max_bytes or get_settings().document_max_bytes)
    moment = now()
    async with in_transaction():
        await lock_own_contact(principal)
        await _lock(cooperation_id)
        if not await CooperationPartner.exists(cooperation_id=cooperation_id,
                                               organization_id=principal.organization_id):
            raise NotAllowed("You may only propose documents for cooperations your municipality takes part in.")
        await _store(stream, inspected)
        document = _new_document(cooperation_id, meta, inspected, DocumentState.PROPOSED, principal.account_id,
                                 moment)
        await document.save()
        change = await submit(principal, ChangeKind.DOCUMENT_ADD, proposal_payload(document),
                              cooperation_id=cooperation_id)
        await Document.filter(id=document.id).update(change_id=change.id)
    return change


async def publish_proposed(change: ChangeRequest, moment: dt.datetime) -> Document:
    """Approving a DOCUMENT_ADD change (inside the approval's transaction, cooperation locked)."""
    updated = await Document.filter(change_id=change.id, state=DocumentState.PROPOSED).update(
        state=DocumentState.PUBLISHED, published_at=moment)
    if not updated:
        raise Conflict("The proposed document is no longer there; it cannot be approved.")
    document = await Document.get(change_id=change.id)
    await editing.reindex(document.cooperation_id)
    return document


async def reject_proposed(change: ChangeRequest) -> None:
    """Rejecting (or withdrawing) a DOCUMENT_ADD change: the document is never published."""
    await Document.filter(change_id=change.id, state=DocumentState.PROPOSED).update(state=DocumentState.REJECTED)


ERASED_TITLE = "(gelöscht)"


async def erase_unpublished_documents(account_id: int) -> None:
    """A contact person deleted their data: the documents they proposed that were never published
    are never published now, and lose their title and text (inside the deletion's transaction)."""
    await Document.filter(created_by_id=account_id, state__in=[DocumentState.PROPOSED, DocumentState.REJECTED]).update(
        state=DocumentState.REJECTED, title=ERASED_TITLE, text=None, search_words="")


async def withdraw_document(principal: Principal, document_id: int) -> Document:
    """Take a published document back (ADMIN, or APPROVER in scope). One transaction."""
    require(principal, Role.ADMIN, Role.APPROVER)
    peek = await Document.get_or_none(id=document_id)
    if peek is None or not await in_scope(principal, peek.cooperation_id):
        raise NotFound(f"No document with id {document_id}.", field="id")
    moment = now()
    async with in_transaction():
        await _lock(peek.cooperation_id)
        document = await Document.select_for_update().get(id=document_id)
        if document.state is not DocumentState.PUBLISHED:
            raise Conflict(f"The document is {document.state.value.lower()}, not published.",
                           details={"state": document.state.value})
        updated = await Document.filter(id=document_id, state=DocumentState.PUBLISHED).update(
            state=DocumentState.WITHDRAWN, withdrawn_at=moment, withdrawn_by_id=principal.account_id)
        if not updated:
            raise Conflict("The document was withdrawn meanwhile.")
        await editing.reindex(document.cooperation_id)
        await audit.record(AuditAction.DOCUMENT_WITHDRAWN, actor_id=principal.account_id,
                           actor_role=principal.primary_role, subject_type="cooperation",
                           subject_id=document.cooperation_id, details={"documentId": document.id})
        await publication.bump()  # last: after the record locks (see service/publication.py)
    return await Document.get(id=document_id)


def describe(payload: dict) -> str:
    """A proposed document in one line, for the diff and the approver's mail."""
    doc = payload.get("document") or {}
    from service.documents.sniffing import BY_CONTENT_TYPE

    file_type = BY_CONTENT_TYPE.get(doc.get("content_type"))
    parts = [KIND_LABELS.get(_kind(doc.get("kind")), "Dokument")]
    if doc.get("date"):
        parts.append(dt.date.fromisoformat(doc["date"]).strftime("%d.%m.%Y"))
    parts.append(file_type.code if file_type else "Datei")
    parts.append(human_size(int(doc.get("size") or 0)))
    return f"{doc.get('title', '')} ({', '.join(parts)}; {doc.get('file_name', '')})"


def _kind(value):
    from service.documents.models import DocumentKind

    try:
        return DocumentKind(value)
    except ValueError:
        return None


def human_size(size: int) -> str:
    """German style: 980 Bytes, 12 KB, 3,4 MB."""
    if size < 1024:
        return f"{size} Bytes"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")

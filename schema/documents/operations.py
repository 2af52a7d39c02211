"""Documents over GraphQL: attach, propose and withdraw (multipart uploads), read one.

Files come as the GraphQL multipart request spec's `Upload` (schema/http.py enables it, with its
CSRF rule and size limit). A page of the service passes the form's UploadFile the same way.
"""

from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from service.accounts.models import Role
from service.documents import publishing, reading
from service.documents.intake import DocumentMeta
from service.errors import InvalidInput
from schema.approvals.types import Change, change_object
from schema.auth import principal
from schema.common import parse_id
from schema.documents.types import Document, DocumentInput, document_object


def _file(value) -> tuple[object, str | None]:
    stream = getattr(value, "file", None)
    if stream is None or not hasattr(stream, "read") or not hasattr(stream, "seek"):
        raise InvalidInput("'file' must be a file sent as a multipart upload (GraphQL multipart request spec).",
                           field="file")
    return stream, getattr(value, "filename", None)


def _meta(value: DocumentInput) -> DocumentMeta:
    return DocumentMeta(title=value.title, kind=value.kind, date=value.date)


@strawberry.type
class DocumentQuery:
    @strawberry.field(description=(
        "A document: published ones for everyone; proposed, rejected or withdrawn ones only for admins, "
        "approvers in scope and the person who proposed it. Otherwise null."))
    async def document(self, info: Info, id: strawberry.ID) -> Document | None:
        found = await reading.visible(info.context.principal, parse_id(id, "document"))
        return document_object(found) if found else None


@strawberry.type
class DocumentMutation:
    @strawberry.mutation(description=(
        "ADMIN or APPROVER (cooperation in scope): attach a document; it is published at once. "
        "PDF, ODT, DOCX, XLSX, PNG or JPEG (recognised by content), at most DOCUMENT_MAX_BYTES."))
    async def attach_document(self, info: Info, cooperation_id: strawberry.ID, input: DocumentInput,
                              file: Upload) -> Document:
        who = principal(info, Role.ADMIN, Role.APPROVER)
        cid = parse_id(cooperation_id, "cooperation", field="cooperationId")
        stream, name = _file(file)
        return document_object(await publishing.attach_document(
            who, cid, _meta(input), stream, name, max_bytes=info.context.settings.document_max_bytes))

    @strawberry.mutation(description=(
        "Contact person: propose a document for a cooperation your municipality takes part in; it is public "
        "once an approver approves the change (kind DOCUMENT_ADD)."))
    async def propose_document(self, info: Info, cooperation_id: strawberry.ID, input: DocumentInput,
                               file: Upload) -> Change:
        who = principal(info, Role.CONTACT)
        cid = parse_id(cooperation_id, "cooperation", field="cooperationId")
        stream, name = _file(file)
        return await change_object(await publishing.propose_document(
            who, cid, _meta(input), stream, name, max_bytes=info.context.settings.document_max_bytes))

    @strawberry.mutation(description="ADMIN or APPROVER (in scope): withdraw a published document from the public.")
    async def withdraw_document(self, info: Info, id: strawberry.ID) -> Document:
        who = principal(info, Role.ADMIN, Role.APPROVER)
        return document_object(await publishing.withdraw_document(who, parse_id(id, "document")))

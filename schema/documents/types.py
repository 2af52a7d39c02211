"""The Document type and its input; a document's URL is its download at /documents/<id>/<file name>."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import strawberry
from strawberry.types import Info

from service.documents.models import KIND_LABELS, Document as DocumentModel, DocumentKind, DocumentState
from service.documents.sniffing import BY_CONTENT_TYPE

DocumentKindEnum = strawberry.enum(DocumentKind, name="DocumentKind", description=(
    "MODEL_CONTRACT Vertragsmuster, STATUTE Satzung, COUNCIL_RESOLUTION Ratsbeschluss, OTHER Sonstiges."))
DocumentStateEnum = strawberry.enum(DocumentState, name="DocumentState", description=(
    "Only PUBLISHED documents are public; PROPOSED ones wait in a change, REJECTED ones never became public, "
    "WITHDRAWN ones were taken back."))


def download_path(document_id: int, file_name: str) -> str:
    return f"/documents/{document_id}/{quote(file_name, safe='')}"


@strawberry.type(description="A file attached to a cooperation (model contract, statute, council resolution, other).")
class Document:
    id: strawberry.ID
    title: str
    kind: DocumentKindEnum
    date: dt.date | None = strawberry.field(description="The document's own date (e.g. of the resolution).")
    file_name: str = strawberry.field(description="Cleaned file name with the extension of the real type.")
    content_type: str = strawberry.field(description="The media type recognised from the content.")
    size: int = strawberry.field(description="Bytes.")
    sha256: str = strawberry.field(description="SHA-256 of the file (hex), to check a download.")
    state: DocumentStateEnum
    published_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    cooperation_id: strawberry.ID

    @strawberry.field(description="German label of the kind, e.g. 'Satzung'.")
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @strawberry.field(description="Short name of the type: PDF, ODT, DOCX, XLSX, PNG or JPEG.")
    def file_type(self) -> str:
        known = BY_CONTENT_TYPE.get(self.content_type)
        return known.code if known else "Datei"

    @strawberry.field(description="The download link (absolute, from PUBLIC_BASE_URL).")
    def url(self, info: Info) -> str:
        return info.context.settings.link(download_path(int(self.id), self.file_name))


def document_object(model: DocumentModel) -> Document:
    return Document(
        id=strawberry.ID(str(model.id)), title=model.title, kind=DocumentKind(model.kind),
        date=model.document_date, file_name=model.file_name, content_type=model.content_type, size=model.size,
        sha256=model.sha256, state=DocumentState(model.state), published_at=model.published_at,
        withdrawn_at=model.withdrawn_at, cooperation_id=strawberry.ID(str(model.cooperation_id)),
    )


@strawberry.input(description="What a document is; the file itself goes in the mutation's `file` (multipart upload).")
class DocumentInput:
    title: str
    kind: DocumentKindEnum
    date: dt.date | None = None

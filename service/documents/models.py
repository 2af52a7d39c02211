"""Documents of a cooperation: metadata in the database, the bytes in a content-addressed store.

A document is public only in state PUBLISHED. One proposed by a contact person is PROPOSED until
an approver decides (APPROVED → PUBLISHED, rejected → REJECTED, never public); a published one
that the ministry takes back is WITHDRAWN (kept for the record, never shown to the public).
"""

from __future__ import annotations

from enum import Enum

from tortoise import fields
from tortoise.models import Model


class DocumentKind(str, Enum):
    MODEL_CONTRACT = "MODEL_CONTRACT"
    STATUTE = "STATUTE"
    COUNCIL_RESOLUTION = "COUNCIL_RESOLUTION"
    OTHER = "OTHER"


KIND_LABELS = {
    DocumentKind.MODEL_CONTRACT: "Vertragsmuster",
    DocumentKind.STATUTE: "Satzung",
    DocumentKind.COUNCIL_RESOLUTION: "Ratsbeschluss",
    DocumentKind.OTHER: "Sonstiges",
}


class DocumentState(str, Enum):
    PUBLISHED = "PUBLISHED"
    PROPOSED = "PROPOSED"  # part of a pending change; public once approved
    REJECTED = "REJECTED"  # its change was rejected (or withdrawn): never public
    WITHDRAWN = "WITHDRAWN"  # was public, taken back by the ministry


class Document(Model):
    id = fields.IntField(primary_key=True)
    cooperation = fields.ForeignKeyField(
        "ikz.Cooperation", related_name="documents", on_delete=fields.CASCADE, db_index=True
    )
    title = fields.CharField(max_length=300)
    kind = fields.CharEnumField(DocumentKind, max_length=30)
    document_date = fields.DateField(null=True)
    file_name = fields.CharField(max_length=255)  # sanitised; the download URL ends with it
    content_type = fields.CharField(max_length=100)  # as recognised from the content
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64, db_index=True)  # the key in the document storage
    text = fields.TextField(null=True)  # extracted (PDF, ODT, DOCX)
    search_words = fields.TextField(default="")  # the folded words the cooperation's search index takes
    state = fields.CharEnumField(DocumentState, max_length=20, db_index=True)
    change = fields.ForeignKeyField(
        "ikz.ChangeRequest", related_name="documents", null=True, on_delete=fields.SET_NULL, db_index=True
    )
    created_by_id = fields.IntField(null=True)  # the account (audit trail style: an id, no personal data)
    created_at = fields.DatetimeField(auto_now_add=True)
    published_at = fields.DatetimeField(null=True)
    withdrawn_at = fields.DatetimeField(null=True)
    withdrawn_by_id = fields.IntField(null=True)

    class Meta:
        table = "document"

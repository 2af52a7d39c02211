"""What a cooperation's search index takes from its documents: the words of the published ones."""

from __future__ import annotations

from service.documents.models import Document, DocumentState


async def published_words(cooperation_id: int) -> list[str]:
    return list(await Document.filter(cooperation_id=cooperation_id, state=DocumentState.PUBLISHED)
                .order_by("id").values_list("search_words", flat=True))

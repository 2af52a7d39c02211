"""Reference lists: topic fields and legal forms (small, read on every facet request)."""

from __future__ import annotations

from service.catalogue.models import LegalFormCategory
from service.catalogue.views import LegalFormView, TopicFieldView
from service.errors import NotFound
from service.sql import fetch


async def topic_fields() -> list[TopicFieldView]:
    rows = await fetch("SELECT id, key, label, position FROM topic_field ORDER BY position, id")
    return [TopicFieldView(r["id"], r["key"], r["label"], r["position"]) for r in rows]


async def legal_forms() -> list[LegalFormView]:
    rows = await fetch(
        "SELECT code, label, abbreviation, category, legal_basis, position FROM legal_form ORDER BY position, code"
    )
    return [
        LegalFormView(
            r["code"], r["label"], r["abbreviation"], LegalFormCategory(r["category"]), r["legal_basis"], r["position"]
        )
        for r in rows
    ]


async def legal_form(code: str) -> LegalFormView:
    for form in await legal_forms():
        if form.code == code:
            return form
    raise NotFound(f"No legal form with code {code!r}.")

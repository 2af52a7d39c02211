"""Reference lists: topic fields and legal forms (small, read on every facet request)."""

from __future__ import annotations

import weakref

from service import db
from service.catalogue.models import LegalFormCategory
from service.catalogue.views import LegalFormView, TopicFieldView
from service.sql import fetch


# The lists change only when seeds are loaded; caching them per database connection saves two
# statements on every list request (measured in bench/catalogue.py). `forget()` drops the cache.
_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def forget() -> None:
    _cache.clear()


async def _cached(name: str, load):
    try:
        per_connection = _cache.setdefault(db.connection(), {})
    except TypeError:  # a connection object that cannot be weakly referenced: no caching
        return await load()
    if name not in per_connection:
        per_connection[name] = await load()
    return per_connection[name]


async def topic_fields() -> list[TopicFieldView]:
    return await _cached("topic_fields", _load_topic_fields)


async def legal_forms() -> list[LegalFormView]:
    return await _cached("legal_forms", _load_legal_forms)


async def _load_topic_fields() -> list[TopicFieldView]:
    rows = await fetch("SELECT id, key, label, position FROM topic_field ORDER BY position, id")
    return [TopicFieldView(r["id"], r["key"], r["label"], r["position"]) for r in rows]


async def _load_legal_forms() -> list[LegalFormView]:
    rows = await fetch(
        "SELECT code, label, abbreviation, category, legal_basis, position FROM legal_form ORDER BY position, code"
    )
    return [
        LegalFormView(
            r["code"], r["label"], r["abbreviation"], LegalFormCategory(r["category"]), r["legal_basis"], r["position"]
        )
        for r in rows
    ]

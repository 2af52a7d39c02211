"""The data version: one integer that moves with every change an anonymous reader can see.

Anonymous answers are cached (per process, schema/response_cache.py) and revalidated by browsers and
proxies (ETag) under this number. It lives in the database, so every instance sees a change at once,
and it is moved by `bump()` inside the very transaction that publishes the change: a reader either
sees the old data with the old number or the new data with the new one, never new data under an old
number that a cache would keep. Reading it is one indexed statement (`current()`).

Writers that must call `bump()` (tests/test_data_version.py runs them all and fails when the
public answer changed without the number): approvals, direct edits, a contact going public or
being deleted, seeds and their corrections. Call it last in the transaction, after the record locks:
it locks the one row until commit, so taken earlier it could wait on a rival holding a record lock.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.expressions import F
from tortoise.models import Model

from service import db

ROW_ID = 1


class DataVersion(Model):
    """A single row (id 1), created by the migration."""

    id = fields.IntField(primary_key=True)
    version = fields.BigIntField(default=1)

    class Meta:
        table = "data_version"
        table_description = "The version of the published data, one row (service/publication.py)"


async def bump() -> None:
    """Move the version on; call inside the transaction that changes published data."""
    updated = await DataVersion.filter(id=ROW_ID).update(version=F("version") + 1)
    if not updated:  # a database migrated without the row (never with `ikz migrate`): create it
        await DataVersion.create(id=ROW_ID, version=2)


async def current() -> int:
    """The version now (one statement); 0 when the row is missing."""
    rows = await db.connection().execute_query_dict("SELECT version FROM data_version WHERE id = 1")
    return int(rows[0]["version"]) if rows else 0

"""PostgreSQL-only behaviour; on SQLite these tests are skipped with the reason shown."""

from __future__ import annotations

import asyncio

import asyncpg

from service.mail.models import MailStatus, OutboxMail
from service.mail.worker import deliver_due
from tests.conftest import requires_postgres
from tests.test_mail_delivery import queue_mails


@requires_postgres
async def test_a_row_locked_by_another_worker_is_skipped_not_waited_for(settings, mail_settings, smtp):
    await OutboxMail.filter(status__in=[MailStatus.PENDING, MailStatus.SENDING]).update(status=MailStatus.FAILED)
    locked_id, free_id = await queue_mails(2)
    other_worker = await asyncpg.connect(settings.database_url.replace("postgres://", "postgresql://", 1))
    try:
        transaction = other_worker.transaction()
        await transaction.start()
        await other_worker.execute("SELECT id FROM outbox_mail WHERE id = $1 FOR UPDATE", locked_id)
        result = await asyncio.wait_for(deliver_due(mail_settings), timeout=10)
        assert (result.claimed, result.sent) == (1, 1)
        assert (await OutboxMail.get(id=free_id)).status is MailStatus.SENT
        assert (await OutboxMail.get(id=locked_id)).status is MailStatus.PENDING
        await transaction.rollback()
    finally:
        await other_worker.close()
    assert (await deliver_due(mail_settings)).sent == 1


@requires_postgres
async def test_search_uses_the_full_text_index(database):
    from tortoise.transactions import in_transaction

    async with in_transaction() as connection:
        # With 132 rows a sequential scan is cheaper; forbid it to see that the index can serve the search.
        await connection.execute_query("SET LOCAL enable_seqscan = off")
        plan = await connection.execute_query_dict(
            "EXPLAIN SELECT id FROM cooperation c WHERE c.search_vector @@ to_tsquery('simple', 'rettungsdienst:*')"
        )
    assert "cooperation_search" in " ".join(str(list(r.values())[0]) for r in plan)

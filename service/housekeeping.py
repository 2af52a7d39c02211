"""Background upkeep beside the mail worker: folding the facet tally (service/catalogue/tallies.py)
and deleting stored files no document needs (service/documents/sweep.py).

Runs wherever the mail worker runs (`ikz serve` unless RUN_MAIL_WORKER=false, and `ikz worker`).
Several instances may run it at once: a fold takes an advisory lock and the others skip; two sweeps
deleting the same file do no harm.
"""

from __future__ import annotations

import asyncio
import logging
import time

from service.catalogue.tallies import Folding
from service.documents.sweep import sweep_documents

logger = logging.getLogger("ikz.housekeeping")

FOLD_EVERY_SECONDS = 60.0
SWEEP_EVERY_SECONDS = 3600.0


async def run_housekeeping(stop: asyncio.Event, every: float = FOLD_EVERY_SECONDS,
                           sweep_every: float = SWEEP_EVERY_SECONDS) -> None:
    """Fold the tally every `every` seconds and sweep document files every `sweep_every`, until `stop`."""
    folding = Folding()
    swept_at: float | None = None
    while not stop.is_set():
        try:
            folded = await folding.run_if_due()
            if folded:
                logger.info("facet tally: %d rows folded", folded)
            if swept_at is None or time.monotonic() - swept_at >= sweep_every:
                swept_at = time.monotonic()
                report = await sweep_documents()
                if report.deleted:
                    logger.info("documents: %d unneeded files deleted (%d bytes)", len(report.deleted),
                                report.freed_bytes)
        except Exception:  # upkeep must not end on a bad pass (a database restart, say); the next one retries
            logger.exception("housekeeping pass failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except asyncio.TimeoutError:
            pass

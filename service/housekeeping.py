"""Background upkeep beside the mail worker: folding the facet tally (service/catalogue/tallies.py).

Runs wherever the mail worker runs (`ikz serve` unless RUN_MAIL_WORKER=false, and `ikz worker`).
Several instances may run it at once: a fold takes an advisory lock and the others skip.
"""

from __future__ import annotations

import asyncio
import logging

from service.catalogue.tallies import Folding

logger = logging.getLogger("ikz.housekeeping")

FOLD_EVERY_SECONDS = 60.0


async def run_housekeeping(stop: asyncio.Event, every: float = FOLD_EVERY_SECONDS) -> None:
    """Fold the tally now and then until `stop` is set."""
    folding = Folding()
    while not stop.is_set():
        try:
            folded = await folding.run_if_due()
            if folded:
                logger.info("facet tally: %d rows folded", folded)
        except Exception:  # upkeep must not end on a bad pass (a database restart, say); the next one retries
            logger.exception("housekeeping pass failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except asyncio.TimeoutError:
            pass

"""Deleting stored files that no document needs any more (storage limitation, GDPR Art. 5(1)(e)).

A file is needed while a document that is published, proposed (its change waits for review) or
withdrawn (kept for the record) points at its digest, and for 30 days after its upload while a
rejected proposal does (the reviewer may look back). Files of older rejected proposals, of proposals
a contact person erased by deleting their data (at once), and files an aborted upload left behind
are deleted once they are older than the grace period; a file that another upload stores again is
touched by `FileSystemStorage.put`, so it is young again and stays.

Runs from the housekeeping loop (service/housekeeping.py) and as `ikz documents sweep`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from service.documents.models import Document, DocumentState
from service.documents.publishing import ERASED_TITLE
from service.documents.storage import FileSystemStorage, get_storage
from service.time import now

KEPT_STATES = (DocumentState.PUBLISHED, DocumentState.PROPOSED, DocumentState.WITHDRAWN)
GRACE = dt.timedelta(hours=1)  # longer than any upload takes from storing the file to committing its row
REJECTED_KEPT = dt.timedelta(days=30)
BATCH = 500


@dataclass
class SweepReport:
    kept: int = 0
    deleted: list[str] = field(default_factory=list)
    freed_bytes: int = 0


async def sweep_documents(storage: FileSystemStorage | None = None, *, grace: dt.timedelta = GRACE,
                          rejected_kept: dt.timedelta = REJECTED_KEPT, dry_run: bool = False) -> SweepReport:
    storage = storage or get_storage()
    if not isinstance(storage, FileSystemStorage):
        return SweepReport()  # another storage keeps its own lifecycle
    report = SweepReport()
    cutoff = time.time() - grace.total_seconds()
    recent = now() - rejected_kept
    stored = await asyncio.to_thread(_old_files, storage.root, cutoff)
    for start in range(0, len(stored), BATCH):
        batch = stored[start:start + BATCH]
        digests = [sha for sha, _ in batch]
        needed = set(await Document.filter(sha256__in=digests, state__in=KEPT_STATES).values_list("sha256", flat=True))
        needed |= set(await Document.filter(sha256__in=digests, state=DocumentState.REJECTED, created_at__gte=recent)
                      .exclude(title=ERASED_TITLE).values_list("sha256", flat=True))
        for sha256, path in batch:
            if sha256 in needed:
                report.kept += 1
                continue
            size = await asyncio.to_thread(_delete_if_still_old, path, cutoff, dry_run)
            if size is None:
                report.kept += 1
            else:
                report.deleted.append(sha256)
                report.freed_bytes += size
    return report


def _old_files(root: Path, cutoff: float) -> list[tuple[str, Path]]:
    """Stored files (ab/cd/<sha256>) last written or touched before `cutoff`."""
    found = []
    if not root.is_dir():
        return found
    for path in root.glob("??/??/*"):
        name = path.name
        if len(name) == 64 and name[:2] == path.parent.parent.name and name[2:4] == path.parent.name:
            try:
                if path.stat().st_mtime < cutoff:
                    found.append((name, path))
            except FileNotFoundError:
                continue
    return found


def _delete_if_still_old(path: Path, cutoff: float, dry_run: bool) -> int | None:
    """Delete the file unless an upload touched it meanwhile; its size, or None when it stays.

    The file is first renamed aside, then its time is read again: an upload that touched it before
    the rename made it young (it goes back); one after the rename finds no file and writes it anew.
    """
    try:
        size = path.stat().st_size
        if dry_run:
            return size
        aside = path.with_name(f".sweep-{path.name}")
        os.rename(path, aside)
    except FileNotFoundError:
        return None
    if aside.stat().st_mtime >= cutoff:
        os.replace(aside, path)  # touched by an upload of the same content just now: needed again
        return None
    os.unlink(aside)
    return size

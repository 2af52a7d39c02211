"""The published versions of a cooperation: one entry per approved change or direct edit.

Public data only: when it was published and which fields changed (old → new, in the readable
form the review shows). Nothing about who proposed or approved it beyond "the ministry".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from service.approvals.changes import change_diffs
from service.approvals.diff import FieldChange
from service.approvals.models import ChangeKind, ChangeRequest, ChangeStatus

DIRECT_EDIT_NOTE = "direct edit"  # what edit_cooperation_directly records as the review note


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    published_at: dt.datetime
    created: bool  # the entry that published the cooperation
    direct_edit: bool  # edited by the ministry itself rather than approved from a proposal
    changes: list[FieldChange]


async def cooperation_history(cooperation_id: int) -> list[HistoryEntry]:
    """Newest first."""
    return (await cooperation_histories([cooperation_id]))[cooperation_id]


async def cooperation_histories(cooperation_ids: list[int]) -> dict[int, list[HistoryEntry]]:
    """`cooperation_history` for many cooperations in a fixed number of statements."""
    ids = sorted(set(cooperation_ids))
    changes = await ChangeRequest.filter(
        cooperation_id__in=ids, status=ChangeStatus.APPROVED,
        kind__in=[ChangeKind.COOPERATION_CREATE, ChangeKind.COOPERATION_UPDATE],
    ).order_by("reviewed_at", "id") if ids else []
    diffs = await change_diffs(changes)
    histories: dict[int, list[HistoryEntry]] = {i: [] for i in cooperation_ids}
    for change, diff in zip(changes, diffs):
        entries = histories[change.cooperation_id]
        entries.append(HistoryEntry(
            version=(change.base_version + 1) if change.base_version else len(entries) + 1,
            published_at=change.reviewed_at or change.submitted_at,
            created=change.kind is ChangeKind.COOPERATION_CREATE,
            direct_edit=change.review_note == DIRECT_EDIT_NOTE and change.reviewed_by_id == change.submitted_by_id,
            changes=diff,
        ))
    for entries in histories.values():
        entries.reverse()
    return histories

"""Per-request DataLoaders for changes and histories: a page of changes, or the histories of a page
of cooperations, costs the same statements as one."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from service.approvals.batch import current_versions
from service.approvals.changes import change_diffs
from service.approvals.history import cooperation_histories


class ApprovalLoaders:
    def __init__(self) -> None:
        # Keyed by the ChangeRequest rows themselves (tortoise models hash and compare by primary key).
        self.diff = DataLoader(change_diffs)
        self.current_version = DataLoader(current_versions)
        self.history = DataLoader(self._histories)

    async def _histories(self, ids: list[int]):
        found = await cooperation_histories(list(ids))
        return [found[i] for i in ids]

"""Per-request DataLoaders for contact records: one statement per batch, whatever the list size."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from service.accounts import contact_records


class AccountLoaders:
    def __init__(self) -> None:
        self.contact = DataLoader(self._contacts)
        self.account_of_contact = DataLoader(self._accounts)
        self.cooperation_ids_of_contact = DataLoader(self._cooperation_ids)

    async def _contacts(self, ids: list[int]):
        found = await contact_records.contacts_by_id(list(ids))
        return [found.get(i) for i in ids]

    async def _accounts(self, ids: list[int]):
        found = await contact_records.accounts_of_contacts(list(ids))
        return [found.get(i) for i in ids]

    async def _cooperation_ids(self, ids: list[int]):
        found = await contact_records.cooperation_ids_of_contacts(list(ids))
        return [found[i] for i in ids]

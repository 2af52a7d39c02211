"""Per-request DataLoaders for the catalogue: one statement per batch, whatever the list size."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from service.catalogue import contacts, organizations
from service.catalogue import cooperations as coop_service
from schema.catalogue.build import build_cooperations


class CatalogueLoaders:
    def __init__(self, context) -> None:
        self._context = context
        self.organization = DataLoader(self._organizations)
        self.cooperation = DataLoader(self._cooperations)
        self.cooperation_parts = DataLoader(self._parts)
        self.cooperation_count_of_partner = DataLoader(self._counts)
        self.contacts_of_organization = DataLoader(self._contacts)
        self.documents_of_cooperation = DataLoader(self._documents)
        self._partner_pages: dict[tuple, DataLoader] = {}

    async def _organizations(self, ids: list[int]):
        found = await organizations.get_many(list(ids))
        return [found.get(i) for i in ids]

    async def _cooperations(self, ids: list[int]):
        views = await coop_service.get_many(list(ids))
        ordered = [views[i] for i in ids if i in views]
        built = {int(c.id): c for c in await build_cooperations(ordered, self._context, None)}
        return [built.get(i) for i in ids]

    async def _parts(self, parent_ids: list[int]):
        grouped = await coop_service.parts_of(list(parent_ids))
        everything = [v for pid in parent_ids for v in grouped[pid]]
        built = {int(c.id): c for c in await build_cooperations(everything, self._context, None)}
        return [[built[v.id] for v in grouped[pid]] for pid in parent_ids]

    async def _counts(self, ids: list[int]):
        counts = await coop_service.cooperation_counts_by_partner(list(ids))
        return [counts[i] for i in ids]

    async def _contacts(self, ids: list[int]):
        found = await contacts.public_contacts_of_organizations(list(ids))
        return [found[i] for i in ids]

    async def _documents(self, ids: list[int]):
        from service.documents.reading import published_of

        found = await published_of(list(ids))
        return [found.get(i, []) for i in ids]

    def cooperations_of_partner(self, first: int, after) -> DataLoader:
        """Pages of cooperations per partner; one loader per (first, after) so a batch shares the page."""
        key = (first, tuple(after) if after else None)
        loader = self._partner_pages.get(key)
        if loader is None:

            async def load(ids: list[int]):
                pages, has_next = await coop_service.cooperation_ids_by_partner(list(ids), first, after)
                return [(pages[i], has_next[i]) for i in ids]

            loader = self._partner_pages[key] = DataLoader(load)
        return loader

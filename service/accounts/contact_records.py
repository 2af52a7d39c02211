"""Contact persons as the ministry and the person see them (any state), many at once.

The GraphQL layer's loaders ask for every contact of a page in one call, so a list of
contacts or of changes about contacts costs the same few statements whatever its length.
Public reads go through service.catalogue.contacts instead.
"""

from __future__ import annotations

from service.accounts.models import Account
from service.catalogue.models import Contact, ContactCooperation


async def contacts_by_id(contact_ids: list[int]) -> dict[int, Contact]:
    ids = sorted(set(contact_ids))
    return {c.id: c for c in await Contact.filter(id__in=ids)} if ids else {}


async def accounts_of_contacts(contact_ids: list[int]) -> dict[int, Account]:
    """The account of each contact that has one (keyed by contact id)."""
    ids = sorted(set(contact_ids))
    return {a.contact_id: a for a in await Account.filter(contact_id__in=ids)} if ids else {}


async def cooperation_ids_of_contacts(contact_ids: list[int]) -> dict[int, list[int]]:
    """The cooperations each contact is named for, by id."""
    ids = sorted(set(contact_ids))
    found: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        for contact_id, cooperation_id in await ContactCooperation.filter(contact_id__in=ids).order_by(
                "cooperation_id").values_list("contact_id", "cooperation_id"):
            found[contact_id].append(cooperation_id)
    return found

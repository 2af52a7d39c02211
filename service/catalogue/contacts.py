"""Public contact persons. Only contacts in state PUBLIC ever leave this module.

Every public read of contacts goes through these functions, so a hidden or deleted
person cannot appear in results, counts or errors by accident.
"""

from __future__ import annotations

from collections import defaultdict

from service.catalogue.models import ContactState
from service.catalogue.views import ContactView
from service.sql import fetch, placeholders

PUBLIC_STATE = ContactState.PUBLIC.value
# Written into the SQL as a constant, not a parameter: PostgreSQL's generic plan for a prepared
# `state = $1` hash-joins every public contact (measured 3.6 ms instead of 0.2 ms at 100k).
PUBLIC_ONLY = f"k.state = '{PUBLIC_STATE}'"
PUBLIC_CONTACT_COLUMNS = (
    "k.id, k.organization_id, k.salutation, k.title, k.first_name, k.last_name, k.function, k.email, "
    "k.phone, k.state, k.last_approved_change_at"
)


async def public_contacts_of_organizations(organization_ids: list[int]) -> dict[int, list[ContactView]]:
    if not organization_ids:
        return {}
    rows = await fetch(
        f"SELECT {PUBLIC_CONTACT_COLUMNS} FROM contact k WHERE {PUBLIC_ONLY} "
        f"AND k.organization_id IN ({placeholders(len(organization_ids))}) ORDER BY k.last_name{{ci}}, k.first_name{{ci}}, k.id",
        organization_ids,
    )
    grouped: dict[int, list[ContactView]] = defaultdict(list)
    for r in rows:
        grouped[r["organization_id"]].append(ContactView.from_row(r))
    return {oid: grouped.get(oid, []) for oid in organization_ids}

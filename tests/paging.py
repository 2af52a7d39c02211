"""Every node of a cooperations connection, page by page through the API (the rows an export must equal)."""

from __future__ import annotations

BY_START_YEAR = "orderBy: {field: START_YEAR, direction: DESC},"


async def all_cooperations(gql, document: str, flt=None, search=None, *, newest_first: bool = False) -> list[dict]:
    """`document` pages `cooperations(filter: $f, search: $s, first: 100, after: $after)`; `newest_first`
    asks for the order of the export's `sort=year-desc`."""
    if newest_first:
        document = document.replace("first: 100,", f"first: 100, {BY_START_YEAR}")
    rows, after = [], None
    while True:
        result = await gql(document, {"f": flt, "s": search, "after": after})
        assert not result.errors, result.errors
        connection = result.data["cooperations"]
        rows.extend(e["node"] for e in connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            return rows
        after = connection["pageInfo"]["endCursor"]

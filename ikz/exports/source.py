"""The export's rows, read through GraphQL: the `cooperations` connection, page after page.

Each page is one execution of ikz/operations/export.graphql with the caller's session (a page
request's, or an anonymous one for `ikz export`), following the cursors; a page is handed on
before the next is fetched, so memory holds one page however many rows match, and the download
holds exactly what the API shows to that session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.requests import Request

from ikz.exports.columns import row
from ikz.web.base import Result, run

OPERATION = "export"
Execute = Callable[[dict[str, Any]], Awaitable[Result]]
Batch = list[list[object]]


class ExportRefused(Exception):
    """The first page was refused (unknown filter ids, bad input): nothing has been sent yet."""

    def __init__(self, message: str, code: str | None) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def executor(request: Request) -> Execute:
    """Runs the export operation as a page of this request would (its session, cookies, rules)."""
    return lambda variables: run(request, OPERATION, variables)


def local_request(app) -> Request:
    """A request without session for running operations outside HTTP (`ikz export`): anonymous, as a
    visitor of the public pages."""
    return Request({"type": "http", "app": app, "method": "GET", "path": "/export", "raw_path": b"/export",
                    "query_string": b"", "headers": [], "client": None, "scheme": "http",
                    "server": None, "root_path": ""})


def _page(result: Result) -> tuple[list[dict], str | None]:
    if not result.ok or not result.data:
        error = result.errors[0] if result.errors else None
        raise ExportRefused(error.message if error else "Die Liste konnte nicht gelesen werden.",
                            error.code if error else None)
    connection = result.data["cooperations"]
    after = connection["pageInfo"]["endCursor"] if connection["pageInfo"]["hasNextPage"] else None
    return [edge["node"] for edge in connection["edges"]], after


async def node_batches(execute: Execute, variables: dict[str, Any], page_size: int) -> AsyncIterator[list[dict]]:
    """The API's nodes, one page per batch. The first page is fetched at once, so a refused filter
    raises ExportRefused here, before any byte of a download; empty results give no batch."""
    nodes, after = _page(await execute({**variables, "first": page_size, "after": None}))

    async def batches() -> AsyncIterator[list[dict]]:
        nonlocal nodes, after
        while True:
            if nodes:
                yield nodes
            if after is None:
                return
            nodes, after = _page(await execute({**variables, "first": page_size, "after": after}))

    return batches()


async def row_batches(execute: Execute, variables: dict[str, Any], page_size: int,
                      profile_url: str, make_row=row) -> AsyncIterator[Batch]:
    """Rows of typed values (ikz.exports.columns.COLUMNS), one batch per page; raises like node_batches."""
    nodes = await node_batches(execute, variables, page_size)

    async def batches() -> AsyncIterator[Batch]:
        async for batch in nodes:
            yield [make_row(node, profile_url) for node in batch]

    return batches()

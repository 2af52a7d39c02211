"""Benchmark: the public search page (/) with facets against the equivalent GraphQL request.

    .venv/bin/python bench/pages.py [--database-url postgres://…] [--sizes 1000,100000] [--repeat N]

The search page runs one operation, ikz/operations/search.graphql, in-process through the same
schema and context as /graphql, then renders the HTML (results, facet checkbox lists with counts,
regions, paging). The equivalent GraphQL request is a POST /graphql of that same document with the
same variables through the same ASGI app, decoded with .json(). So the ratio page/GraphQL is the
price of the page layer (query-string parsing, in-process execution, Jinja2 rendering) and should
stay within 1.5×; the page at 100k cooperations should stay within 2× of the page at 1k.

The data are generated exactly as bench/catalogue.py generates them (same code, same seed): real
migrations and seeds, then bulk-inserted municipalities, cooperations, partners, topic fields and
contacts up to the requested size.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (str(ROOT), str(ROOT / "bench")):
    if path not in sys.path:
        sys.path.insert(0, path)

import httpx  # noqa: E402

import catalogue as data  # noqa: E402  (bench/catalogue.py: data generation and timing helpers)
from service import db  # noqa: E402
from service.catalogue.seed import load_seeds  # noqa: E402
from service.config import set_settings  # noqa: E402

DEFAULT_SIZES = (1_000, 100_000)
BASE_URL = data.BASE_URL


@dataclass
class Variant:
    name: str
    params: list[tuple[str, str]]


@dataclass
class Row:
    database: str
    size: int
    variant: str
    total: int
    page: data.Timing
    graphql: data.Timing

    @property
    def ratio(self) -> float:
        return self.page.median / self.graphql.median


def variants(busiest: int, topic: str, region: int) -> list[Variant]:
    return [
        Variant("start page", []),
        Variant("search", [("q", data.SEARCH_TERM)]),
        Variant("partner", [("partner", str(busiest))]),
        Variant("facets", [("topic", topic), ("status", "ACTIVE"), ("sort", "year-desc")]),
        Variant("region", [("region", str(region))]),
    ]


async def bench_size(database: str, url: str, var_dir: Path, size: int, repeat: int | None) -> list[Row]:
    import random

    from starlette.datastructures import QueryParams

    from ikz.web import catalogue as pages
    from ikz.web.base import operation

    settings = data.make_settings(var_dir, url)
    set_settings(settings)
    db.install_query_counting()
    try:
        await db.migrate(url)
        await db.close_db()
        await db.init_db(url)
        await load_seeds()
        generated = await data.generate(size, random.Random(data.SEED))
        await data.check_and_analyze()
        total = await data.scalar("SELECT COUNT(*) FROM cooperation")
        busiest = (await db.connection().execute_query_dict(
            "SELECT organization_id, COUNT(*) AS n FROM cooperation_partner GROUP BY organization_id "
            "ORDER BY n DESC, organization_id LIMIT 1"))[0]["organization_id"]
        topic = str((await db.connection().execute_query_dict(
            "SELECT topic_field_id, COUNT(*) AS n FROM cooperation_topic_field GROUP BY topic_field_id "
            "ORDER BY n DESC LIMIT 1"))[0]["topic_field_id"])
        region = (await db.connection().execute_query_dict(  # the district with the most cooperations
            "SELECT a.ancestor_id AS id, COUNT(DISTINCT p.cooperation_id) AS n FROM cooperation_partner p "
            "JOIN organization_ancestor a ON a.organization_id = p.organization_id "
            "JOIN organization o ON o.id = a.ancestor_id WHERE o.kind = 'DISTRICT' "
            "GROUP BY a.ancestor_id ORDER BY n DESC, a.ancestor_id LIMIT 1"))[0]["id"]
        data.log(f"[{database} {size:,}] {generated.cooperations:,} generated, {total:,} cooperations in all")

        from ikz.app import create_app

        app = create_app(settings, manage_db=False)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 40000))
        document = operation("search")
        rows = []
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            for variant in variants(busiest, topic, region):
                class FakeRequest:  # the page's own query-string parsing gives the GraphQL variables
                    query_params = QueryParams(variant.params)
                variables = pages.search_variables(pages.search_state(FakeRequest()))

                async def page_call():
                    response = await client.get("/", params=variant.params)
                    assert response.status_code == 200, response.text[:500]
                    return response.text

                async def graphql_call():
                    response = await client.post("/graphql", json={"query": document, "variables": variables,
                                                                   "operationName": "SearchPage"})
                    body = response.json()
                    assert not body.get("errors"), body["errors"]
                    return body

                body = await graphql_call()
                html = await page_call()
                matches = body["data"]["cooperations"]["totalCount"]
                first_title = (body["data"]["cooperations"]["edges"] or [{"node": {"title": ""}}])[0]["node"]["title"]
                from markupsafe import escape

                assert str(escape(first_title)) in html, "the page shows what the API answers"
                page_timing, graphql_timing = await data.measure_pair(page_call, graphql_call, repeat)
                rows.append(Row(database, total, variant.name, matches, page_timing, graphql_timing))
                data.log(f"[{database} {size:,}] {variant.name:10s} {matches:>7,} matches: page "
                         f"{page_timing.median:.2f} ms, GraphQL {graphql_timing.median:.2f} ms")
        return rows
    finally:
        await db.close_db()


def report(rows: list[Row]) -> bool:
    ok = True
    print("\n| database | cooperations | page | matches | page median ms | GraphQL median ms | page / GraphQL |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r.database} | {r.size:,} | {r.variant} | {r.total:,} | {r.page.median:.2f} | "
              f"{r.graphql.median:.2f} | {r.ratio:.2f} |")
        ok &= r.ratio <= 1.5
    sizes = sorted({r.size for r in rows})
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        print(f"\nGrowth of the page from {small:,} to {large:,} cooperations (median at {large:,} / median at {small:,}):\n")
        print("| database | page | growth |")
        print("| --- | --- | ---: |")
        by = {(r.size, r.variant): r for r in rows}
        for r in rows:
            if r.size == large and (small, r.variant) in by:
                growth = r.page.median / by[(small, r.variant)].page.median
                ok &= growth <= 2.0
                print(f"| {r.database} | {r.variant} | {growth:.2f}x |")
    print("\ntargets (page within 1.5x of GraphQL, large within 2x of small):", "met" if ok else "NOT met")
    return ok


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="postgres://… (default: temporary SQLite)")
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES))
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args()
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    admin_url = args.database_url.strip()
    database = "postgres" if admin_url else "sqlite"
    started = time.perf_counter()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="ikz-bench-pages-") as tmp:
        for size in sizes:
            # SQLite as the service's default DATABASE_URL opens it: with a 64 MiB page cache.
            url = await data.create_postgres_database(admin_url) if admin_url else \
                f"sqlite://{Path(tmp) / f'pages-{size}.sqlite3'}?cache_size=-65536"
            try:
                rows += await bench_size(database, url, Path(tmp), size, args.repeat)
            finally:
                if admin_url:
                    await data.drop_postgres_database(url, admin_url)
    ok = report(rows)
    print(f"\nTotal runtime {time.perf_counter() - started:.0f} s.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

"""Benchmark: the search page's counting (totalCount and every facet) per function, at 1k and 100k.

    .venv/bin/python bench/facets.py [--database-url postgres://…] [--sizes 1000,100000] [--repeat N]

bench/pages.py times whole pages; this script times the service functions behind them, one by one,
for the same filters (no filter, a search, the busiest partner, a topic field with status ACTIVE, the
busiest district), so that the growth from 1k to 100k shows where it is. The baseline is the same
function at the smallest size in the same run.

On SQLite the database runs inside this process, so the time taken is the process's CPU time
(time.process_time): it does not grow when other programs load the machine. On PostgreSQL the work is
in the server, so it is wall time (time.perf_counter) and noisier. Data as bench/catalogue.py makes it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (str(ROOT), str(ROOT / "bench")):
    if path not in sys.path:
        sys.path.insert(0, path)

import catalogue as data  # noqa: E402
from service import db  # noqa: E402
from service.catalogue import cooperations as coops  # noqa: E402
from service.catalogue.models import CooperationStatus  # noqa: E402
from service.catalogue.seed import load_seeds  # noqa: E402
from service.config import set_settings  # noqa: E402

FUNCTIONS = {
    "totalCount": coops.count,
    "topicFields": coops.topic_field_facet,
    "legalForms": coops.legal_form_facet,
    "statuses": coops.status_facet,
    "partners": lambda flt: coops.partner_facet(flt, 25),
    "regions": coops.region_facet,
}


async def first_id(sql: str) -> int:
    return (await db.connection().execute_query_dict(sql))[0]["id"]


async def filters() -> dict[str, coops.CooperationFilter]:
    busiest = await first_id("SELECT organization_id AS id, COUNT(*) AS n FROM cooperation_partner "
                             "GROUP BY organization_id ORDER BY n DESC, organization_id LIMIT 1")
    topic = await first_id("SELECT topic_field_id AS id, COUNT(*) AS n FROM cooperation_topic_field "
                           "GROUP BY topic_field_id ORDER BY n DESC, topic_field_id LIMIT 1")
    district = await first_id(
        "SELECT a.ancestor_id AS id, COUNT(DISTINCT p.cooperation_id) AS n FROM cooperation_partner p "
        "JOIN organization_ancestor a ON a.organization_id = p.organization_id "
        "JOIN organization o ON o.id = a.ancestor_id WHERE o.kind = 'DISTRICT' "
        "GROUP BY a.ancestor_id ORDER BY n DESC, a.ancestor_id LIMIT 1")
    return {
        "start page": coops.CooperationFilter(),
        "search": coops.CooperationFilter(search=data.SEARCH_TERM),
        "partner": coops.CooperationFilter(partner_ids=(busiest,)),
        "facets": coops.CooperationFilter(topic_field_ids=(topic,), statuses=(CooperationStatus.ACTIVE,)),
        "region": coops.CooperationFilter(region_ids=(district,)),
    }


async def bench_size(url: str, var_dir: Path, size: int, repeat: int) -> dict[tuple[str, str], float]:
    set_settings(data.make_settings(var_dir, url))
    clock = time.perf_counter if url.startswith("postgres") else time.process_time
    try:
        await db.migrate(url)
        await db.close_db()
        await db.init_db(url)
        await load_seeds()
        await data.generate(size, random.Random(data.SEED))
        await data.check_and_analyze()
        results = {}
        for variant, flt in (await filters()).items():
            for name, function in FUNCTIONS.items():
                await function(flt)
                times = []
                for _ in range(repeat):
                    started = clock()
                    await function(flt)
                    times.append((clock() - started) * 1000)
                results[(variant, name)] = statistics.median(times)
            total = sum(results[(variant, n)] for n in FUNCTIONS)
            data.log(f"[{size:,}] {variant:10s} {total:8.2f} ms for all counts")
        return results
    finally:
        await db.close_db()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="postgres://… (default: temporary SQLite)")
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    admin_url = args.database_url.strip()
    database = "postgres" if admin_url else "sqlite"
    by_size = {}
    with tempfile.TemporaryDirectory(prefix="ikz-bench-facets-") as tmp:
        for size in sizes:
            url = await data.create_postgres_database(admin_url) if admin_url else \
                f"sqlite://{Path(tmp) / f'facets-{size}.sqlite3'}?cache_size=-65536"
            try:
                by_size[size] = await bench_size(url, Path(tmp), size, args.repeat)
            finally:
                if admin_url:
                    await data.drop_postgres_database(url, admin_url)
    small, large = sizes[0], sizes[-1]
    unit = "wall ms" if admin_url else "CPU ms"
    names = list(FUNCTIONS)
    print(f"\n{database}: median {unit} per call at {large:,} cooperations (growth against {small:,} in brackets)\n")
    print("| filter | " + " | ".join(names) + " | all |")
    print("| --- |" + " ---: |" * (len(names) + 1))
    for variant in dict.fromkeys(v for v, _ in by_size[large]):
        cells = []
        for name in names + ["all"]:
            if name == "all":
                big = sum(by_size[large][(variant, n)] for n in names)
                base = sum(by_size[small][(variant, n)] for n in names)
            else:
                big, base = by_size[large][(variant, name)], by_size[small][(variant, name)]
            cells.append(f"{big:.1f} ({big / base:.1f}×)" if base > 0 else f"{big:.1f}")
        print(f"| {variant} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

"""Benchmark: the export (ikz/exports) at 1k, 10k and 100k cooperations, per format.

    .venv/bin/python bench/export.py [--database-url postgres://…] [--sizes 1000,10000,100000]
                                     [--formats csv,xlsx] [--no-baseline]

Every size gets a fresh database built exactly as bench/catalogue.py builds it (real migrations
and seeds, then generated municipalities, cooperations, partners, topic fields and contacts in
bulk, same seed). Each format then exports the whole list, unfiltered, as `ikz export` does: rows
through ikz/operations/export.graphql, page after page (the API's page size), in-process with an
anonymous session, encoded by the format's encoder, the bytes counted and dropped.

Per run: rows, bytes, seconds, rows/s, and memory twice: the tracemalloc peak (Python
allocations during the export; tracemalloc runs in a second pass, so the timing is not
slowed by it) and the RSS growth of the process during the timed pass (sampled every 20 ms;
the allocator keeps pages it once had, so this is an upper bound). Memory is flat when the
peak at 100k is about the peak at 1k: the "× 1k" columns divide each value by the same format's
value at the smallest size, in this run.

`csv (service)` is the baseline: the CSV export as it was before it went through GraphQL
(bench/service_export.py: keyset batches of 500 straight from the service layer, same columns);
"× service" divides a format's seconds by the baseline's at the same size.

A further format plugs in by adding its encoder to ikz.exports.formats.FORMATS (an async
generator from row batches to bytes); this script picks up every entry there.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import catalogue as data  # noqa: E402  (bench/catalogue.py: data generation)
from service import db  # noqa: E402
from service.catalogue.seed import load_seeds  # noqa: E402
from service.config import set_settings  # noqa: E402

DEFAULT_SIZES = (1_000, 10_000, 100_000)
BASELINE = "csv (service)"
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class RssSampler:
    """The highest resident set size seen while running, minus the size at the start."""

    def __init__(self) -> None:
        self.start = rss()
        self.peak = self.start
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self) -> None:
        while not self.stop.wait(0.02):
            self.peak = max(self.peak, rss())

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, rss())

    @property
    def growth(self) -> int:
        return self.peak - self.start


@dataclass
class Run:
    database: str
    size: int
    fmt: str
    rows: int
    bytes: int
    seconds: float
    tracemalloc_peak: int
    rss_growth: int

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


async def export_once(fmt: str, request, settings) -> tuple[int, int]:
    """(rows, bytes) of one full export in format `fmt`."""
    from ikz.exports.formats import FORMATS
    from ikz.exports.source import executor, row_batches

    rows = 0
    if fmt == BASELINE:
        from service.catalogue.cooperations import CooperationFilter
        from service_export import csv_chunks

        size = 0
        async for chunk in csv_chunks(CooperationFilter(), profile_url=settings.link("cooperations/")):
            size += len(chunk.encode("utf-8"))
            rows += chunk.count("\r\n")
        return rows - 1, size  # the header line

    batches = await row_batches(executor(request), {"filter": None, "search": None}, settings.max_page_size,
                                settings.link("cooperations/"))

    async def counted():
        nonlocal rows
        async for batch in batches:
            rows += len(batch)
            yield batch

    size = 0
    async for chunk in FORMATS[fmt].encode(counted()):
        size += len(chunk)
    return rows, size


async def bench_size(database: str, url: str, var_dir: Path, size: int, formats: list[str],
                     warm_up: bool, single_pass: bool = False) -> list[Run]:
    from ikz.app import create_app
    from ikz.exports.source import local_request

    settings = data.make_settings(var_dir, url)
    set_settings(settings)
    try:
        await db.migrate(url)
        await db.close_db()
        await db.init_db(url)
        await load_seeds()
        await data.generate(size, random.Random(data.SEED))
        await data.check_and_analyze()
        total = await data.scalar("SELECT COUNT(*) FROM cooperation")
        request = local_request(create_app(settings, manage_db=False))
        runs = []
        for fmt in formats:
            if warm_up:
                await export_once(fmt, request, settings)  # warm up (imports, caches) once
            if single_pass:
                tracemalloc.start()
            with RssSampler() as sampler:
                started = time.perf_counter()
                rows, length = await export_once(fmt, request, settings)
                seconds = time.perf_counter() - started
            assert rows == total, (fmt, rows, total)
            if not single_pass:
                tracemalloc.start()
                await export_once(fmt, request, settings)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            runs.append(Run(database, total, fmt, rows, length, seconds, peak, sampler.growth))
            data.log(f"[{database} {total:,}] {fmt:14s} {rows:,} rows, {length / 1e6:.1f} MB in {seconds:.1f} s; "
                     f"tracemalloc peak {peak / 1e6:.1f} MB, RSS +{sampler.growth / 1e6:.1f} MB")
        return runs
    finally:
        await db.close_db()


def report(runs: list[Run]) -> None:
    smallest = {}
    baseline = {}
    for r in runs:
        first = smallest.setdefault((r.database, r.fmt), r)
        if r.size < first.size:
            smallest[(r.database, r.fmt)] = r
        if r.fmt == BASELINE:
            baseline[(r.database, r.size)] = r
    headers = ["database", "format", "rows", "MB", "seconds", "rows/s", "× service", "tracemalloc peak MB",
               "× 1k", "RSS growth MB", "× 1k"]
    table = []
    for r in runs:
        base = smallest[(r.database, r.fmt)]
        service = baseline.get((r.database, r.size))
        table.append([
            r.database, r.fmt, f"{r.rows:,}", f"{r.bytes / 1e6:.1f}", f"{r.seconds:.2f}", f"{r.rate:,.0f}",
            f"{r.seconds / service.seconds:.2f}×" if service else "–",
            f"{r.tracemalloc_peak / 1e6:.1f}", f"{r.tracemalloc_peak / base.tracemalloc_peak:.2f}×",
            f"{r.rss_growth / 1e6:.1f}", f"{r.rss_growth / base.rss_growth:.2f}×" if base.rss_growth > 0 else "–",
        ])
    print()
    data.print_table(headers, table, text_columns=2)
    print()
    print("× service: seconds / the service-path CSV's seconds at the same size. × 1k: memory / the same format's "
          "memory at the smallest size (1.0× = flat). RSS growth: the largest resident set during the timed pass "
          f"minus the set at its start; ru_maxrss of the whole run: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f} MB.")


async def main() -> int:
    from ikz.exports.formats import FORMATS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="postgres://… to benchmark PostgreSQL (default: temporary SQLite)")
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES), help="cooperations, comma separated")
    parser.add_argument("--formats", default=",".join(FORMATS), help=f"of {', '.join(FORMATS)} (default: all)")
    parser.add_argument("--no-baseline", action="store_true", help="leave out the service-path CSV")
    parser.add_argument("--single-pass", action="store_true",
                        help="one pass per format with tracemalloc on (faster; its seconds include tracemalloc's cost)")
    args = parser.parse_args()
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        parser.error(f"unknown format {unknown[0]!r}")
    if not args.no_baseline:
        formats = [BASELINE, *formats]
    admin_url = args.database_url.strip()
    database = "postgres" if admin_url else "sqlite"
    started = time.perf_counter()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="ikz-bench-") as tmp:
        var_dir = Path(tmp)
        for size in sizes:
            url = await data.create_postgres_database(admin_url) if admin_url else f"sqlite://{var_dir / f'export-{size}.sqlite3'}"
            try:
                warm_up = size == sizes[0] and size <= 10_000
                runs += await bench_size(database, url, var_dir, size, formats, warm_up, single_pass=args.single_pass)
            finally:
                if admin_url:
                    await data.drop_postgres_database(url, admin_url)
    report(runs)
    print(f"\nTotal runtime {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

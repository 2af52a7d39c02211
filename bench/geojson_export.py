"""Benchmark: the GeoJSON export against the CSV export of the same rows, at growing sizes.

    .venv/bin/python bench/geojson_export.py [--database-url postgres://…] [--sizes 10000,100000]

Both writers consume the same keyset batches (service/catalogue/export.py: export_batches), so the
CSV export is the baseline: the ratio GeoJSON/CSV is the price of the GeoJSON writer (orjson per
feature, the MultiPoint of the partners' seats). Each export of every cooperation is written to
/dev/null chunk by chunk, as the StreamingResponse sends it; we report its time, its size, and the
peak of Python memory allocated during it (tracemalloc), which must stay flat as the rows grow (the
export is streamed: one batch of 500 in memory at a time), not grow with them.

The data are generated as bench/catalogue.py generates them (same code, same seed); the generated
municipalities then get made-up seats (the seed bodies keep their real ones), so that nearly every
feature has a geometry.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (str(ROOT), str(ROOT / "bench")):
    if path not in sys.path:
        sys.path.insert(0, path)

import catalogue as data  # noqa: E402  (bench/catalogue.py: data generation and helpers)
from service import db  # noqa: E402
from service.catalogue.cooperations import CooperationFilter  # noqa: E402
from service.catalogue.export import csv_chunks  # noqa: E402
from service.catalogue.geojson import geojson_chunks  # noqa: E402
from service.catalogue.seed import load_seeds  # noqa: E402
from service.config import set_settings  # noqa: E402

DEFAULT_SIZES = (10_000, 100_000)


async def run_export(writer, traced: bool) -> tuple[float, int, int]:
    """(seconds, bytes written, peak traced bytes or 0) of one full export to /dev/null."""
    if traced:
        tracemalloc.start()
        tracemalloc.reset_peak()
    started = time.perf_counter()
    size = 0
    with open(os.devnull, "w", encoding="utf-8") as sink:
        async for chunk in writer(CooperationFilter(), profile_url=data.BASE_URL + "/cooperations/"):
            sink.write(chunk)
            size += len(chunk.encode("utf-8"))
    seconds = time.perf_counter() - started
    if not traced:
        return seconds, size, 0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, size, peak


async def bench_size(database: str, url: str, var_dir: Path, size: int) -> list[list[str]]:
    set_settings(data.make_settings(var_dir, url))
    try:
        await db.migrate(url)
        await db.close_db()
        await db.init_db(url)
        await load_seeds()
        await data.generate(size, random.Random(data.SEED))
        # Made-up seats for the generated municipalities, spread over NRW.
        await db.connection().execute_query(
            "UPDATE organization SET latitude = 50.5 + (id % 173) / 100.0, longitude = 6.2 + (id % 251) / 100.0 "
            "WHERE latitude IS NULL AND kind <> 'OTHER'")
        await data.check_and_analyze()
        total = int(await data.scalar("SELECT COUNT(*) FROM cooperation"))
        rows = []
        results = {}
        # Timed untraced (CSV before and after GeoJSON, the faster one the baseline), then traced for memory.
        for name, writer in (("CSV (baseline)", csv_chunks), ("GeoJSON", geojson_chunks), ("CSV (again)", csv_chunks)):
            results[name] = await run_export(writer, traced=False)
            data.log(f"[{database} {total:,}] {name}: {results[name][0]:.2f} s, {results[name][1] / 1e6:.1f} MB")
        peaks = {}
        for name, writer in (("CSV (baseline)", csv_chunks), ("GeoJSON", geojson_chunks)):
            peaks[name] = (await run_export(writer, traced=True))[2]
            data.log(f"[{database} {total:,}] {name}: peak {peaks[name] / 1e6:.1f} MB traced")
        baseline = min(results["CSV (baseline)"][0], results["CSV (again)"][0])
        for name in ("CSV (baseline)", "GeoJSON"):
            seconds, written, _ = results[name]
            seconds = min(seconds, results["CSV (again)"][0]) if name.startswith("CSV") else seconds
            rows.append([database, f"{total:,}", name, f"{seconds:.2f}", f"{seconds / baseline:.2f}×",
                         f"{written / 1e6:.1f}", f"{peaks[name] / 1e6:.1f}"])
        return rows
    finally:
        await db.close_db()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="postgres://… (default: temporary SQLite)")
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES))
    args = parser.parse_args()
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    admin_url = args.database_url.strip()
    database = "postgres" if admin_url else "sqlite"
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="ikz-bench-geojson-") as tmp:
        for size in sizes:
            url = await data.create_postgres_database(admin_url) if admin_url else \
                f"sqlite://{Path(tmp) / f'geojson-{size}.sqlite3'}?cache_size=-65536"
            try:
                rows += await bench_size(database, url, Path(tmp), size)
            finally:
                if admin_url:
                    await data.drop_postgres_database(url, admin_url)
    print()
    data.print_table(["database", "cooperations", "export", "seconds", "vs CSV", "MB written", "peak MB (Python)"],
                     rows, 3)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

"""The response cache and HTTP revalidation against the `{ __typename }` floor, over real HTTP.

    .venv/bin/python bench/cache.py [--requests 400] [--database-url postgres://…] [--sqlite-only]

For SQLite and (when BENCH_DATABASE_URL / TEST_DATABASE_URL or --database-url names a server)
PostgreSQL: a scratch database migrated and seeded with the real commands (`ikz seed --demo`, so
contacts are public), `ikz serve` (one process, APP_ENV=production) in a subprocess, and one
keep-alive HTTP/1.1 connection sending, in alternating rounds of 50:

- floor: `{ __typename }` (HTTP, parse/validate caches, execute; no database);
- cached: the list page of issue 12 (50 cooperations with legal form, topic fields, partners with
  names, public contacts, totalCount), anonymous, repeated: answered from the response cache;
- 304: the same as GET with If-None-Match (revalidation, no body);
- uncached: the same list with an unknown bearer token (bypasses the cache; one extra statement for
  the session look-up).

Prints median and p90 latency and the ratio of the medians to the floor. Targets (issue 12):
cached ≤ 1.5×, 304 ≤ 1.2×.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.processes import IkzProcess, free_port, ikz_env, run_cli  # noqa: E402

FLOOR = "{ __typename }"
LIST = ("query List { cooperations(first: 50) { totalCount edges { node { id title legalForm { code label } "
        "topicFields { id label } partners { role organization { id name } } contacts { id name email phone } } } } }")


class Connection:
    """One keep-alive HTTP/1.1 connection (cheaper than httpx, so the client costs little)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def send(self, head: bytes, body: bytes = b"") -> tuple[int, dict[bytes, bytes], bytes]:
        self.writer.write(head + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        headers = {}
        for line in raw.split(b"\r\n")[1:]:
            if b":" in line:
                name, value = line.split(b":", 1)
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get(b"content-length", b"0"))
        return status, headers, await self.reader.readexactly(length) if length else b""

    async def post(self, query: str, extra: bytes = b"") -> tuple[int, dict, bytes]:
        body = json.dumps({"query": query}).encode()
        return await self.send(b"POST /graphql HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                               b"Content-Length: %d\r\n%s\r\n" % (len(body), extra), body)

    async def get(self, query: str, extra: bytes = b"") -> tuple[int, dict, bytes]:
        path = "/graphql?" + urlencode({"query": query})
        return await self.send(b"GET %s HTTP/1.1\r\nHost: bench\r\nAccept: application/json\r\n%s\r\n"
                               % (path.encode(), extra))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def measure(port: int, requests: int) -> dict[str, list[float]]:
    conn = Connection(port)
    await conn.open()
    status, headers, body = await conn.get(LIST)
    assert status == 200 and not json.loads(body).get("errors"), body[:300]
    etag = headers[b"etag"]
    assert len(json.loads(body)["data"]["cooperations"]["edges"]) == 50 or json.loads(body)["data"]["cooperations"][
        "totalCount"] < 50
    kinds = {
        "floor `{ __typename }`": lambda: conn.post(FLOOR),
        "list, anonymous repeat (cached)": lambda: conn.post(LIST),
        "list, GET If-None-Match (304)": lambda: conn.get(LIST, b"If-None-Match: " + etag + b"\r\n"),
        "list, uncached": lambda: conn.post(LIST, b"Authorization: Bearer no-session-bench\r\n"),
    }
    expected = {"list, GET If-None-Match (304)": 304}
    times: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(20):  # warm-up
        for send in kinds.values():
            await send()
    rounds = max(1, requests // 50)
    for _ in range(rounds):
        for name, send in kinds.items():
            for _ in range(50):
                started = time.perf_counter()
                status, _, body = await send()
                times[name].append(time.perf_counter() - started)
                assert status == expected.get(name, 200), (name, status, body[:200])
    conn.close()
    return times


async def run_backend(label: str, database_url: str, work: Path, requests: int) -> list[tuple]:
    env = ikz_env(database_url, work / "var", "c" * 48, APP_ENV="production", RUN_MAIL_WORKER="false")
    for args in (["migrate"], ["seed", "--demo"]):
        result = run_cli(args, env)
        if result.returncode != 0:
            raise SystemExit(result.stdout + result.stderr)
    port = free_port()
    server = IkzProcess(["serve", "--port", str(port)], env, work / f"serve-{label}.log")
    try:
        server.wait_ready(port)
        times = await measure(port, requests)
    finally:
        server.terminate()
    floor = statistics.median(times["floor `{ __typename }`"])
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        p90 = sorted(values)[int(len(values) * 0.9)]
        rows.append((label, name, len(values), f"{median * 1000:.2f}", f"{p90 * 1000:.2f}", f"{median / floor:.2f}×"))
    return rows


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per kind (default 400)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL")
                        or os.environ.get("TEST_DATABASE_URL") or "")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    from service.db import create_database_beside, drop_database

    rows: list[tuple] = []
    work = Path(tempfile.mkdtemp(prefix="ikz-bench-cache-"))
    try:
        rows += await run_backend("SQLite", f"sqlite://{work / 'bench.sqlite3'}", work, args.requests)
        if args.database_url.startswith("postgres") and not args.sqlite_only:
            url = await create_database_beside(args.database_url, "ikz_bench_cache")
            try:
                rows += await run_backend("PostgreSQL", url, work, args.requests)
            finally:
                await drop_database(url, args.database_url)
        else:
            print("PostgreSQL skipped: set BENCH_DATABASE_URL or TEST_DATABASE_URL", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    header = ("database", "request", "n", "median ms", "p90 ms", "median / floor")
    print("| " + " | ".join(header) + " |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

"""A bounded loopback load against `ikz serve --workers 2` on PostgreSQL.

    .venv/bin/python bench/load.py [--duration 60] [--clients 64] [--workers 2] [--database-url postgres://…]

Creates a scratch database next to the given one (dropped afterwards), migrates and seeds it with
the real commands, creates a ministry account, starts `ikz serve --workers N` (mail worker inside,
writing to files) and drives it with C concurrent keep-alive clients (closed loop: each sends its
next request when the last one is answered):

1. baseline: `{ __typename }` only (parse, validate, execute, HTTP; no database), a quarter of the
   duration (at least 5 s);
2. mix: 90 % public reads of every kind (list, filters, search, facets, cooperation profiles,
   municipality lists/search/profiles), 10 % logins and mutations (login, createContact,
   requestPasswordReset), for the full duration.

Every answer must be HTTP 200 without GraphQL errors; any error makes the run exit 1. Prints
p50/p99 latency and requests per second per kind as a table. The client is one asyncio process with
a minimal HTTP/1.1 client (cheaper than httpx), on the same machine as the server and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.processes import IkzProcess, free_port, ikz_env, run_cli  # noqa: E402

ADMIN, ADMIN_PASSWORD = "lastadmin", "Ein-langes-Passwort-1"
COOP_FIELDS = "id title status startYear legalForm { code label } topicFields { label } partners { role organization { name } }"
Q = {
    "list": f"query List($after: String) {{ cooperations(first: 20, after: $after) {{ totalCount pageInfo {{ endCursor }} "
            f"edges {{ node {{ {COOP_FIELDS} }} }} }} }}",
    "filter": f"query Filter($f: CooperationFilter) {{ cooperations(filter: $f, first: 20) {{ totalCount "
              f"edges {{ node {{ {COOP_FIELDS} }} }} }} }}",
    "search": f"query Search($s: String) {{ cooperations(search: $s, first: 20) {{ totalCount "
              f"edges {{ node {{ {COOP_FIELDS} }} }} }} }}",
    "facets": "query Facets($f: CooperationFilter) { cooperations(filter: $f, first: 10) { totalCount "
              "edges { node { id title } } facets { statuses { status count } legalForms { legalForm { code } count } "
              "topicFields { topicField { label } count } partners(first: 10) { organization { name } count } } } }",
    "profile": "query Profile($id: ID!) { cooperation(id: $id) { id title description sinceText dataAsOf "
               "lastApprovedChangeAt legalForm { label legalBasis } partners { role organization { id name "
               "... on Municipality { kind ags } } } performedBy { kind text } contacts { name email } } }",
    "municipalities": "query Municipalities($s: String, $after: String) { municipalities(search: $s, first: 20, after: $after) "
                      "{ totalCount edges { node { id name kind ags parent { name } } } } }",
    "municipality": "query Municipality($id: ID!) { municipality(id: $id) { id name kind ags parent { name } "
                    "cooperations(first: 20) { totalCount edges { node { id title } } } contacts { name } } }",
    "login": "mutation Login($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
    "createContact": "mutation CreateContact($input: CreateContactInput!) { createContact(input: $input) { id state } }",
    "requestPasswordReset": "mutation RequestReset($u: String!) { requestPasswordReset(usernameOrEmail: $u) }",
    "baseline": "query Baseline { __typename }",
}
# Weights in per mille: 900 reads, 100 logins and mutations.
MIX = [("list", 150), ("filter", 200), ("search", 180), ("facets", 120), ("profile", 120), ("municipalities", 70),
       ("municipality", 60), ("login", 40), ("createContact", 30), ("requestPasswordReset", 30)]
SEARCH_WORDS = ["Rettungsdienst", "IT", "Abfall", "Schule", "Feuerwehr", "Wasser", "Kreis", "Bauhof", "Vergabe",
                "Jugend", "Luenen", "Bonen", "strassen", "Verwaltung", "Musik", "Sport", "Energie", "Gesundheit"]


class Connection:
    """One keep-alive HTTP/1.1 connection; POST JSON, read the answer by Content-Length."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes, headers: bytes = b"") -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            try:
                self.writer.write(b"POST /graphql HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                                  b"Content-Length: %d\r\n%s\r\n" % (len(body), headers) + body)
                head = await self.reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                return status, await self.reader.readexactly(length)
            except (asyncio.IncompleteReadError, ConnectionError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class Fixtures:
    def __init__(self, data: dict) -> None:
        self.cooperations = data["cooperations"]
        self.municipalities = data["municipalities"]
        self.topic_fields = data["topic_fields"]
        self.legal_forms = data["legal_forms"]
        self.cursors = data["cursors"]
        self.token = data["token"]

    def request(self, kind: str) -> tuple[dict, bytes]:
        pick = random.choice
        variables: dict = {}
        headers = b""
        if kind == "list":
            variables = {"after": pick([None, *self.cursors])}
        elif kind in ("filter", "facets"):
            choice = random.randrange(6)
            if choice == 0:
                f = {"partnerIds": [pick(self.municipalities)]}
            elif choice == 1:
                f = {"legalForms": [pick(self.legal_forms)]}
            elif choice == 2:
                f = {"statuses": [pick(["ACTIVE", "PLANNED", "ENDED"])]}
            elif choice == 3:
                f = {"topicFieldIds": random.sample(self.topic_fields, 2)}
            elif choice == 4:
                f = {"startYearFrom": random.randrange(1990, 2015)}
            else:
                f = {"partnerIds": [pick(self.municipalities)], "statuses": ["ACTIVE"]}
            variables = {"f": f}
        elif kind == "search":
            variables = {"s": pick(SEARCH_WORDS)}
        elif kind == "profile":
            variables = {"id": pick(self.cooperations)}
        elif kind == "municipalities":
            variables = {"s": pick([None, "Selm", "Unna", "Kreis", "Saar", "Berg", "Ka"]), "after": None}
        elif kind == "municipality":
            variables = {"id": pick(self.municipalities)}
        elif kind == "login":
            variables = {"u": ADMIN, "p": ADMIN_PASSWORD}
        elif kind == "createContact":
            last = f"Last{uuid.uuid4().hex[:10]}"
            variables = {"input": {"municipalityId": pick(self.municipalities), "firstName": "Lena", "lastName": last,
                                   "email": f"{last.lower()}@example.org"}}
            headers = b"Authorization: Bearer %s\r\n" % self.token.encode()
        elif kind == "requestPasswordReset":
            variables = {"u": pick([ADMIN, f"niemand{random.randrange(10**6)}"])}
        return {"query": Q[kind], "operationName": None, "variables": variables}, headers


async def prepare(port: int) -> Fixtures:
    conn = Connection(port)

    async def call(query: str, variables: dict | None = None, headers: bytes = b"") -> dict:
        status, body = await conn.post(json.dumps({"query": query, "variables": variables or {}}).encode(), headers)
        result = json.loads(body)
        if status != 200 or result.get("errors"):
            raise SystemExit(f"setup query failed ({status}): {result}")
        return result["data"]

    coops = await call("{ cooperations(first: 100) { edges { cursor node { id } } } }")
    munis = await call("{ municipalities(first: 100) { edges { node { id } } } }")
    refs = await call("{ topicFields { id } legalForms { code } }")
    token = (await call(Q["login"], {"u": ADMIN, "p": ADMIN_PASSWORD}))["login"]["token"]
    edges = coops["cooperations"]["edges"]
    conn.close()
    return Fixtures({"cooperations": [e["node"]["id"] for e in edges], "cursors": [e["cursor"] for e in edges[::20]],
                     "municipalities": [e["node"]["id"] for e in munis["municipalities"]["edges"]],
                     "topic_fields": [t["id"] for t in refs["topicFields"]],
                     "legal_forms": [f["code"] for f in refs["legalForms"]], "token": token})


async def drive(port: int, fixtures: Fixtures, kinds: list[tuple[str, int]], clients: int, seconds: float):
    population = [k for k, _ in kinds]
    weights = [w for _, w in kinds]
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        conn = Connection(port)
        try:
            while time.perf_counter() < stop_at:
                kind = random.choices(population, weights)[0]
                payload, headers = fixtures.request(kind)
                payload["operationName"] = None
                body = json.dumps(payload).encode()
                started = time.perf_counter()
                try:
                    status, answer = await conn.post(body, headers)
                except Exception as exc:  # counted, never hidden
                    errors[kind].append(f"{type(exc).__name__}: {exc}")
                    continue
                latencies[kind].append(time.perf_counter() - started)
                if status != 200 or b'"errors"' in answer:
                    errors[kind].append(f"{status}: {answer[:300]!r}")
        finally:
            conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def table(rows: list[tuple], header: tuple) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" if i == 0 else "---:" for i in range(len(header))) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def summarize(phase: str, latencies, errors, elapsed: float) -> list[tuple]:
    rows = []
    every: list[float] = []
    for kind in sorted(latencies, key=lambda k: -len(latencies[k])):
        values = latencies[kind]
        every += values
        rows.append((f"{phase}: {kind}", f"{len(values):,}", len(errors.get(kind, ())),
                     f"{percentile(values, .5):.1f}", f"{percentile(values, .99):.1f}", f"{len(values) / elapsed:.1f}"))
    if len(latencies) > 1:
        rows.append((f"**{phase}: all**", f"{len(every):,}", sum(len(e) for e in errors.values()),
                     f"{percentile(every, .5):.1f}", f"{percentile(every, .99):.1f}", f"{len(every) / elapsed:.1f}"))
    return rows


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the mixed phase (default 60)")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL")
                        or os.environ.get("TEST_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/test")
    parser.add_argument("--without", action="append", default=[], choices=[k for k, _ in MIX],
                        help="leave a kind out of the mix (to find what costs)")
    args = parser.parse_args()
    mix_kinds = [(k, w) for k, w in MIX if k not in args.without]
    from service.db import create_database_beside, drop_database

    url = await create_database_beside(args.database_url, "ikz_load")
    work = Path(tempfile.mkdtemp(prefix="ikz-load-"))
    # Production mode, as deployed: no per-statement counting, no GraphiQL.
    env = ikz_env(url, work / "var", "l" * 48, RUN_MAIL_WORKER="true", APP_ENV="production")
    server = None
    try:
        for cli_args, stdin in ((["migrate"], None), (["seed"], None),
                                (["create-user", "--role", "admin", "--username", ADMIN, "--email", "last@example.org",
                                  "--first-name", "Last", "--last-name", "Admin", "--password-stdin"], ADMIN_PASSWORD + "\n")):
            result = run_cli(cli_args, env, stdin=stdin)
            if result.returncode != 0:
                print(result.stdout, result.stderr, file=sys.stderr)
                return 1
        port = free_port()
        server = IkzProcess(["serve", "--port", str(port), "--workers", str(args.workers)], env, work / "serve.log")
        server.wait_ready(port)
        fixtures = await prepare(port)
        await drive(port, fixtures, mix_kinds, args.clients, 3)  # warm-up: caches, connection pools, both workers
        baseline_seconds = max(5.0, args.duration / 4)
        print(f"baseline {baseline_seconds:.0f} s, mix {args.duration:.0f} s, {args.clients} clients, "
              f"{args.workers} workers, {os.cpu_count()} CPUs", flush=True)
        base = await drive(port, fixtures, [("baseline", 1)], args.clients, baseline_seconds)
        mix = await drive(port, fixtures, mix_kinds, args.clients, args.duration)
        rows = summarize("baseline", *base) + summarize("mix", *mix)
        print(table(rows, ("requests", "count", "errors", "p50 ms", "p99 ms", "req/s")))
        failures = [(kind, message) for phase in (base, mix) for kind, messages in phase[1].items() for message in messages]
        for kind, message in failures[:10]:
            print(f"error in {kind}: {message}", file=sys.stderr)
        return 1 if failures else 0
    finally:
        if server is not None:
            server.terminate()
        await drop_database(url, args.database_url)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

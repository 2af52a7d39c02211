"""This service against PostGraphile 4 on the same PostgreSQL database, both in one run.

    .venv/bin/python bench/peer.py [--database-url postgres://…] [--sizes 1000,100000] [--seconds 5]
                                   [--connections 1,8,32] [--servers peer,w1,w2,w1-std,w2-std] [--no-peer]

For every size a scratch database is made beside the given one (dropped afterwards) and filled the
way bench/catalogue.py does (real migrations and seeds, then generated cooperations in bulk, VACUUM
ANALYZE). Then the servers are started as real processes on that database:

- `peer`: PostGraphile 4 (`npx --yes postgraphile@4`, npm cache in ~/.cache/ikz-bench-npm, never
  in the repository), one Node.js process, over a schema `peer` of plain views on the same tables
  (smart comments give them keys and relations; PostgreSQL inlines the views, the indexes are the
  service's own). Public contacts are a view that keeps `state = 'PUBLIC'` only, as the service
  does; the partner filter, the search and the facet counts are SQL functions with the service's
  own conditions. PostGraphile compiles each query into one SQL statement.
- `base` (with --base DIR; `--base-nocache`: with the response cache off): `ikz serve --workers 1` of another checkout, for before/after;
- `w1`, `w2`: `ikz serve --workers 1|2 --loop asyncio --http h11` (production settings);
  `w1-std`, `w2-std`: the same with `--loop uvloop --http httptools` (when installed);
  any of them with `-nocache` (e.g. `w2-std-nocache`): the response cache off (RESPONSE_CACHE_BYTES=0), so
  every request runs its operation. `list`, `partner` and `search` repeat one request: with the cache they
  measure cache hits, without it the uncached path the CPU target is about.

Without Node.js/npx, or when the npm registry cannot be reached, the reason is printed and only
this service is measured. Each server answers the same requests (ids, orders and totalCount are
compared first; a difference stops the run), then is driven by C keep-alive connections (closed
loop, asyncio, one client process; wrk is not needed) for S seconds per cell, the servers one after
the other within each cell so that load elsewhere on the machine hits all alike. Workloads:

- list: the first page of 50 cooperations by title (id, title, legal form, topic fields, partners
  with organisation names, public contacts, totalCount);
- partner: the same page filtered by the partner with the most cooperations;
- search: the same page for the search word "abwasser";
- mix: a realistic public mix of list pages (unfiltered, by status, by legal form), partner
  filters, searches, facets and profiles, where 80 % of the requests repeat one asked before (the
  same seeded sequence for every server). Without a response cache every request costs alike; with
  it the repeats get cheap, and this row shows it.

Printed per cell: req/s, p50 and p99 latency, server CPU per request (utime+stime from
/proc/<pid>/stat of the server process and all its descendants: uvicorn's workers, node), and the
ratios to the peer. The issue's targets: CPU/request <= 1.5x PostGraphile's (uncached: `-nocache`);
mix req/s at 8 connections >= 2x PostGraphile's (with the cache).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.processes import IkzProcess, free_port, ikz_env  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_catalogue", ROOT / "bench" / "catalogue.py")
catalogue = sys.modules["bench_catalogue"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalogue)

PAGE = 50
SEARCH_WORD = "abwasser"
NPM_CACHE = Path.home() / ".cache" / "ikz-bench-npm"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# --- the peer's schema: views on the service's tables, smart comments for keys and relations ----------

PEER_SQL = r"""
DROP SCHEMA IF EXISTS peer CASCADE;
CREATE SCHEMA peer;
CREATE VIEW peer.legal_form AS SELECT code, label FROM public.legal_form;
COMMENT ON VIEW peer.legal_form IS E'@primaryKey code';
CREATE VIEW peer.organization AS SELECT id, name, kind, ags FROM public.organization;
COMMENT ON VIEW peer.organization IS E'@primaryKey id';
CREATE VIEW peer.cooperation AS
    SELECT id, title, description, status, start_year, since_text, data_as_of, legal_form_id,
           sort_title COLLATE "C" AS sort_title, search_vector
    FROM public.cooperation;
COMMENT ON VIEW peer.cooperation IS E'@primaryKey id\n@foreignKey (legal_form_id) references peer.legal_form (code)';
COMMENT ON COLUMN peer.cooperation.search_vector IS E'@omit';
CREATE VIEW peer.partner AS
    SELECT id, cooperation_id, organization_id, role, position FROM public.cooperation_partner;
COMMENT ON VIEW peer.partner IS E'@primaryKey id\n@foreignKey (cooperation_id) references peer.cooperation (id)\n@foreignKey (organization_id) references peer.organization (id)';
CREATE VIEW peer.topic AS
    SELECT x.id, x.cooperation_id, t.id AS topic_field_id, t.label, t.position
    FROM public.cooperation_topic_field x JOIN public.topic_field t ON t.id = x.topic_field_id;
COMMENT ON VIEW peer.topic IS E'@primaryKey id\n@foreignKey (cooperation_id) references peer.cooperation (id)';
-- Only contacts who agreed to be published, exactly as the service filters them.
CREATE VIEW peer.public_contact AS
    SELECT cc.id, cc.cooperation_id, k.id AS contact_id,
           concat_ws(' ', NULLIF(k.title, ''), NULLIF(k.first_name, ''), NULLIF(k.last_name, '')) AS name,
           k.email, k.phone, k.last_name COLLATE "C" AS last_name, k.first_name COLLATE "C" AS first_name
    FROM public.contact_cooperation cc JOIN public.contact k ON k.id = cc.contact_id
    WHERE k.state = 'PUBLIC';
COMMENT ON VIEW peer.public_contact IS E'@primaryKey id\n@foreignKey (cooperation_id) references peer.cooperation (id)';
CREATE FUNCTION peer.cooperations_with_partner(partner integer) RETURNS SETOF peer.cooperation AS $$
    SELECT c.* FROM peer.cooperation c WHERE c.id IN (
        SELECT p.cooperation_id FROM public.cooperation_partner p
        WHERE p.organization_id = partner AND p.left_year IS NULL)
$$ LANGUAGE sql STABLE;
COMMENT ON FUNCTION peer.cooperations_with_partner(integer) IS E'@sortable';
CREATE FUNCTION peer.search_cooperations(query text) RETURNS SETOF peer.cooperation AS $$
    SELECT c.* FROM peer.cooperation c WHERE c.search_vector @@ to_tsquery('simple', query)
$$ LANGUAGE sql STABLE;
COMMENT ON FUNCTION peer.search_cooperations(text) IS E'@sortable';
CREATE TYPE peer.facet_count AS (facet text, value text, n bigint);
CREATE FUNCTION peer.facet_counts(partner integer) RETURNS SETOF peer.facet_count AS $$
    WITH m AS (SELECT c.id, c.status, c.legal_form_id FROM public.cooperation c
               WHERE partner IS NULL OR c.id IN (SELECT p.cooperation_id FROM public.cooperation_partner p
                                                 WHERE p.organization_id = partner AND p.left_year IS NULL))
    SELECT 'status', status::text, COUNT(*) FROM m GROUP BY status
    UNION ALL SELECT 'legalForm', legal_form_id, COUNT(*) FROM m GROUP BY legal_form_id
    UNION ALL SELECT 'topicField', x.topic_field_id::text, COUNT(*) FROM public.cooperation_topic_field x
              WHERE x.cooperation_id IN (SELECT id FROM m) GROUP BY x.topic_field_id
$$ LANGUAGE sql STABLE;
"""

# --- the same questions in both schemas ---------------------------------------------------------------

IKZ_NODE = ("id title legalForm { code label } topicFields { id label } partners { role organization { id name } } "
            "contacts { id name email phone }")
IKZ_PAGE = f"totalCount edges {{ node {{ {IKZ_NODE} }} }} pageInfo {{ hasNextPage endCursor }}"
IKZ = {
    "list": f"query List {{ cooperations(first: {PAGE}) {{ {IKZ_PAGE} }} }}",
    "filter": f"query Filter($f: CooperationFilter) {{ cooperations(first: {PAGE}, filter: $f) {{ {IKZ_PAGE} }} }}",
    "search": f"query Search($s: String) {{ cooperations(first: {PAGE}, search: $s) {{ {IKZ_PAGE} }} }}",
    "facets": "query Facets($f: CooperationFilter) { cooperations(first: 10, filter: $f) { totalCount "
              "edges { node { id title } } facets { statuses { status count } legalForms { legalForm { code } count } "
              "topicFields { topicField { id } count } } } }",
    "profile": "query Profile($id: ID!) { cooperation(id: $id) { id title description sinceText startYear dataAsOf "
               "legalForm { code label } topicFields { id label } partners { role organization { id name } } "
               "contacts { id name email phone } } }",
}
PEER_NODE = ("id title legalForm: legalFormByLegalFormId { code label } "
             "topicFields: topicsByCooperationIdList(orderBy: [POSITION_ASC]) { id: topicFieldId label } "
             "partners: partnersByCooperationIdList(orderBy: [POSITION_ASC, ID_ASC]) { role "
             "organization: organizationByOrganizationId { id name } } "
             "contacts: publicContactsByCooperationIdList(orderBy: [LAST_NAME_ASC, FIRST_NAME_ASC, CONTACT_ID_ASC]) "
             "{ id: contactId name email phone }")
PEER_PAGE = f"totalCount nodes {{ {PEER_NODE} }} pageInfo {{ hasNextPage endCursor }}"
ORDER = "orderBy: [SORT_TITLE_ASC, ID_ASC]"
PEER = {
    "list": f"query List {{ page: allCooperation(first: {PAGE}, {ORDER}) {{ {PEER_PAGE} }} }}",
    "filter": f"query Filter($p: Int!) {{ page: cooperationsWithPartner(partner: $p, first: {PAGE}, {ORDER}) "
              f"{{ {PEER_PAGE} }} }}",
    "condition": f"query Condition($c: CooperationCondition) {{ page: allCooperation(first: {PAGE}, {ORDER}, "
                 f"condition: $c) {{ {PEER_PAGE} }} }}",
    "search": f"query Search($s: String!) {{ page: searchCooperations(query: $s, first: {PAGE}, {ORDER}) "
              f"{{ {PEER_PAGE} }} }}",
    "facets": f"query Facets {{ page: allCooperation(first: 10, {ORDER}) {{ totalCount nodes {{ id title }} }} "
              "facets: facetCounts(partner: null) { nodes { facet value n } } }",
    "facetsPartner": f"query FacetsP($p: Int!) {{ page: cooperationsWithPartner(partner: $p, first: 10, {ORDER}) "
                     "{ totalCount nodes { id title } } facets: facetCounts(partner: $p) { nodes { facet value n } } }",
    "profile": "query Profile($id: Int!) { cooperation: cooperationById(id: $id) { id title description sinceText "
               f"startYear dataAsOf {PEER_NODE.removeprefix('id title ')} }} }}",
}
MIX_WORDS = ["abwasser", "feuerwehr", "schule", "bauhof", "wasser", "musik", "archiv", "kreis", "it", "vergabe",
             "energie", "jugend", "tierheim", "standesamt", "friedhof", "sport"]


def request_for(server: str, kind: str, arg) -> dict:
    """One request of an abstract (kind, argument) in the server's own schema."""
    if server == "peer":
        if kind == "list":
            return {"query": PEER["list"]}
        if kind == "partner":
            return {"query": PEER["filter"], "variables": {"p": arg}}
        if kind == "status":
            return {"query": PEER["condition"], "variables": {"c": {"status": arg}}}
        if kind == "legalForm":
            return {"query": PEER["condition"], "variables": {"c": {"legalFormId": arg}}}
        if kind == "search":
            return {"query": PEER["search"], "variables": {"s": arg[1]}}
        if kind == "facets":
            if arg is None:
                return {"query": PEER["facets"]}
            return {"query": PEER["facetsPartner"], "variables": {"p": arg}}
        if kind == "profile":
            return {"query": PEER["profile"], "variables": {"id": arg}}
    else:
        if kind == "list":
            return {"query": IKZ["list"]}
        if kind == "partner":
            return {"query": IKZ["filter"], "variables": {"f": {"partnerIds": [str(arg)]}}}
        if kind == "status":
            return {"query": IKZ["filter"], "variables": {"f": {"statuses": [arg]}}}
        if kind == "legalForm":
            return {"query": IKZ["filter"], "variables": {"f": {"legalForms": [arg]}}}
        if kind == "search":
            return {"query": IKZ["search"], "variables": {"s": arg[0]}}
        if kind == "facets":
            return {"query": IKZ["facets"], "variables": {"f": {"partnerIds": [str(arg)]} if arg else None}}
        if kind == "profile":
            return {"query": IKZ["profile"], "variables": {"id": str(arg)}}
    raise ValueError(kind)


def normalise(server: str, kind: str, data: dict) -> object:
    """The comparable content of an answer: ids in order, nested ids and names, totalCount."""
    def node(n: dict) -> tuple:
        return (int(n["id"]), n["title"], (n["legalForm"] or {}).get("code"), [int(t["id"]) for t in n["topicFields"]],
                [(p["role"], int(p["organization"]["id"]), p["organization"]["name"]) for p in n["partners"]],
                [(int(c["id"]), c["name"], c["email"]) for c in n["contacts"]])
    if kind == "profile":
        return node(data["cooperation"])
    if server == "peer":
        page = data["page"]
        return page["totalCount"], [node(n) for n in page["nodes"]]
    page = data["cooperations"]
    return page["totalCount"], [node(e["node"]) for e in page["edges"]]


@dataclass
class Fixtures:
    busiest: int
    partners: list[int]
    cooperations: list[int]
    legal_forms: list[str]
    searches: list[tuple[str, str]]  # (the service's search text, the tsquery the service builds from it)

    def workload(self, name: str, count: int, seed: int) -> list[tuple[str, object]]:
        if name == "list":
            return [("list", None)] * count
        if name == "partner":
            return [("partner", self.busiest)] * count
        if name == "search":
            return [("search", self.searches[0])] * count
        return self.mix(count, seed)

    def mix(self, count: int, seed: int) -> list[tuple[str, object]]:
        """A seeded public mix; 80 % of the requests repeat one asked before."""
        rng = random.Random(seed)
        asked: list[tuple[str, object]] = []
        out = []
        kinds = [("list", 10), ("status", 8), ("legalForm", 7), ("partner", 20), ("search", 20), ("facets", 15),
                 ("profile", 20)]
        for _ in range(count):
            if asked and rng.random() < 0.8:
                out.append(rng.choice(asked))
                continue
            kind = rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
            arg = {"list": None, "status": rng.choice(["ACTIVE", "PLANNED", "ENDED"]),
                   "legalForm": rng.choice(self.legal_forms), "partner": rng.choice(self.partners),
                   "search": rng.choice(self.searches), "facets": rng.choice([None, *self.partners[:10]]),
                   "profile": rng.choice(self.cooperations)}[kind]
            asked.append((kind, arg))
            out.append((kind, arg))
        return out


# --- servers ------------------------------------------------------------------------------------------


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process and all its living descendants."""
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK_TCK


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen
    log: Path
    path: str = "/graphql"

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(20)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(10)


def wait_graphql(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    body = json.dumps({"query": "{ __typename }"}).encode()
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}: {server.log.read_text()[-2000:]}")
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{server.port}{server.path}", data=body,
                                             headers={"content-type": "application/json"})
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{server.name} did not answer within {timeout:.0f} s: {server.log.read_text()[-2000:]}")


def peer_unavailable() -> str | None:
    if not shutil.which("node") or not shutil.which("npx"):
        return "Node.js/npx not found on PATH"
    return None


def start_peer(url: str, work: Path) -> Server:
    port = free_port()
    log = work / "postgraphile.log"
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "npm_config_cache": str(NPM_CACHE), "npm_config_update_notifier": "false",
           "NODE_ENV": "production"}
    command = ["npx", "--yes", "postgraphile@4", "--connection", url, "--schema", "peer", "--host", "127.0.0.1",
               "--port", str(port), "--disable-graphiql", "--disable-query-log", "--simple-collections", "both",
               "--no-setof-functions-contain-nulls"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, env=env, cwd=work, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    server = Server("peer", port, proc, log)
    wait_graphql(server, 240)  # the first start downloads PostGraphile into the npm cache
    return server


IKZ_VARIANTS = {
    "w1": ("1", "asyncio", "h11"), "w2": ("2", "asyncio", "h11"),
    "w1-std": ("1", "uvloop", "httptools"), "w2-std": ("2", "uvloop", "httptools"),
}


NO_CACHE = "-nocache"  # suffix: the same server with RESPONSE_CACHE_BYTES=0 (every request runs the operation)


def known(name: str) -> bool:
    return name == "peer" or name.removesuffix(NO_CACHE) in IKZ_VARIANTS


def std_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("uvloop", "httptools"))


def start_ikz(name: str, url: str, work: Path, base: Path | None = None) -> Server:
    """`ikz serve` of this tree, or (name `base`) of another checkout, e.g. the commit before a change."""
    port = free_port()
    variant, cached = (name[:-len(NO_CACHE)], False) if name.endswith(NO_CACHE) else (name, True)
    extra = {} if cached else {"RESPONSE_CACHE_BYTES": "0"}
    env = ikz_env(url, work / "var", "p" * 48, APP_ENV="production", RUN_MAIL_WORKER="false", **extra)
    if variant == "base":  # its own defaults: an older `ikz serve` may not know --loop/--http
        args, cwd = ["serve", "--port", str(port), "--workers", "1"], base
    else:
        workers, loop, http = IKZ_VARIANTS[variant]
        args, cwd = ["serve", "--port", str(port), "--workers", workers, "--loop", loop, "--http", http], ROOT
    process = IkzProcess(args, env, work / f"ikz-{name}.log", cwd=cwd)
    server = Server(name, port, process.proc, process.log_path)
    wait_graphql(server, 90)
    return server


# --- the client ---------------------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection: POST JSON, read the answer (Content-Length or chunked)."""

    def __init__(self, port: int, path: str) -> None:
        self.port, self.path = port, path.encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(b"POST %s HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n" % (self.path, len(body)) + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, chunked = None, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, await self.reader.readexactly(length or 0)
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            data = await self.reader.readexactly(size + 2)
            if size == 0:
                return status, b"".join(parts)
            parts.append(data[:-2])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


@dataclass
class Cell:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu: float = 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / len(self.latencies) if self.latencies else float("nan")


async def drive(server: Server, bodies: list[bytes], connections: int, seconds: float) -> Cell:
    """Closed loop: every connection sends its next request when the last one is answered."""
    cell = Cell()
    position = 0
    stop_at = time.perf_counter() + seconds

    async def one() -> None:
        nonlocal position
        conn = Connection(server.port, server.path)
        try:
            while time.perf_counter() < stop_at:
                body = bodies[position % len(bodies)]
                position += 1
                started = time.perf_counter()
                try:
                    status, answer = await conn.post(body)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    cell.errors.append(f"{type(exc).__name__}: {exc}")
                    conn.close()
                    continue
                cell.latencies.append(time.perf_counter() - started)
                if status != 200 or b'"errors"' in answer:
                    cell.errors.append(f"{status}: {answer[:300]!r}")
        finally:
            conn.close()

    cpu_before = cpu_seconds(server.proc.pid)
    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(connections)))
    cell.seconds = time.perf_counter() - started
    cell.cpu = cpu_seconds(server.proc.pid) - cpu_before
    return cell


def start_py_spy(folder: str | None, server: Server, name: str, seconds: float) -> subprocess.Popen | None:
    """With --py-spy DIR: sample this service's process tree during the cell into DIR/<name>.txt, collapsed
    stacks (flamegraph.pl or speedscope draw them; grep and diff read them). Not PostGraphile."""
    if folder is None or server.name == "peer":
        return None
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out = Path(folder) / name
    out.parent.mkdir(parents=True, exist_ok=True)
    common = ["-p", str(server.proc.pid), "--subprocesses", "--nonblocking", "-r", "250",
              "-d", str(max(1, int(seconds) - 1))]
    return subprocess.Popen([spy, "record", *common, "-f", "raw", "-o", f"{out}.txt"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def ask(server: Server, payload: dict) -> dict:
    conn = Connection(server.port, server.path)
    try:
        status, body = await conn.post(json.dumps(payload).encode())
    finally:
        conn.close()
    answer = json.loads(body)
    if status != 200 or answer.get("errors"):
        raise SystemExit(f"{server.name} answered {status}: {json.dumps(answer)[:1500]}")
    return answer["data"]


async def compare_answers(servers: list[Server], fixtures: Fixtures) -> None:
    """Every server must give the same answer to each workload's questions before anything is timed."""
    questions = [("list", None), ("partner", fixtures.busiest), ("search", fixtures.searches[0]),
                 ("status", "PLANNED"), ("legalForm", fixtures.legal_forms[0]), ("profile", fixtures.cooperations[0])]
    for kind, arg in questions:
        answers = {s.name: normalise(s.name, kind, await ask(s, request_for(s.name, kind, arg))) for s in servers}
        first = next(iter(answers.values()))
        for name, answer in answers.items():
            if answer != first:
                raise SystemExit(f"{kind}: {name} answers differently from {servers[0].name}:\n{answer}\n{first}")
    for server in servers:  # the mix's other kinds must answer without errors too
        for kind, arg in (("facets", None), ("facets", fixtures.busiest)):
            await ask(server, request_for(server.name, kind, arg))


# --- data ---------------------------------------------------------------------------------------------


async def prepare(admin_url: str, size: int, var_dir: Path) -> tuple[str, Fixtures]:
    from service import db
    from service.catalogue.seed import load_seeds
    from service.catalogue.text import query_terms, tsquery
    from service.config import set_settings

    url = await db.create_database_beside(admin_url, "ikz_peer")
    set_settings(catalogue.make_settings(var_dir, url))
    try:
        await db.migrate(url)
        await db.close_db()
        await db.init_db(url)
        await load_seeds()
        await catalogue.generate(size, random.Random(catalogue.SEED))
        await catalogue.check_and_analyze()
        conn = db.connection()
        await conn.execute_script(PEER_SQL)
        top = await conn.execute_query_dict(
            "SELECT organization_id AS id FROM cooperation_partner WHERE left_year IS NULL "
            "GROUP BY organization_id ORDER BY COUNT(*) DESC, organization_id LIMIT 40")
        coops = await conn.execute_query_dict("SELECT id FROM cooperation ORDER BY random() LIMIT 400")
        forms = await conn.execute_query_dict("SELECT DISTINCT legal_form_id AS code FROM cooperation "
                                              "WHERE legal_form_id IS NOT NULL ORDER BY 1")
        total = (await conn.execute_query_dict("SELECT COUNT(*) AS n FROM cooperation"))[0]["n"]
    except BaseException:
        await db.close_db()
        await db.drop_database(url, admin_url)
        raise
    finally:
        await db.close_db()
    words = [SEARCH_WORD, *[w for w in MIX_WORDS if w != SEARCH_WORD]]
    searches = [(w, tsquery(query_terms(w))) for w in words]
    print(f"[{total:,} cooperations] database ready; partner filter: organisation {top[0]['id']}", file=sys.stderr,
          flush=True)
    return url, Fixtures(top[0]["id"], [r["id"] for r in top], [r["id"] for r in coops], [r["code"] for r in forms],
                         searches)


# --- report -------------------------------------------------------------------------------------------


def fmt_ratio(value: float) -> str:
    return "–" if value != value else f"{value:.2f}"


def print_table(rows: list[list[str]]) -> None:
    header = ["cooperations", "workload", "conns", "server", "req/s", "p50 ms", "p99 ms", "CPU ms/req",
              "req/s ÷ peer", "p99 ÷ peer", "CPU ÷ peer", "errors"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) if i < 4 else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) if i < 4 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) + " |")


async def run_size(args, size: int, work: Path, names: list[str], peer_reason: str | None) -> list[list[str]]:
    url, fixtures = await prepare(args.database_url, size, work)
    servers: list[Server] = []
    rows: list[list[str]] = []
    try:
        if "peer" in names and peer_reason is None:
            try:
                servers.append(start_peer(url, work))
            except (RuntimeError, OSError) as exc:
                peer_reason = f"PostGraphile did not start: {str(exc)[-600:]}"
        if peer_reason and "peer" in names:
            print(f"peer skipped: {peer_reason}", file=sys.stderr)
        for name in names:
            if name != "peer":
                servers.append(start_ikz(name, url, work))
        if args.base:
            servers.append(start_ikz(args.base_name, url, work, Path(args.base)))
        await compare_answers(servers, fixtures)
        for server in servers:  # warm up: parser caches, pools, the JIT, every worker
            await drive(server, [json.dumps(request_for(server.name, k, a)).encode()
                                 for k, a in fixtures.mix(200, 7)], 8, args.warmup)
        for workload in args.workloads:
            plan = fixtures.workload(workload, 20_000, seed=size)
            for connections in args.connections:
                cells: dict[str, Cell] = {}
                for server in servers:
                    bodies = [json.dumps(request_for(server.name, k, a)).encode() for k, a in plan]
                    spy = start_py_spy(args.py_spy, server, f"{size}-{workload}-{connections}-{server.name}",
                                       args.seconds)
                    cells[server.name] = await drive(server, bodies, connections, args.seconds)
                    if spy is not None:
                        spy.wait(timeout=args.seconds + 30)
                peer = cells.get("peer")
                for name, cell in cells.items():
                    rows.append([f"{size // 1000}k" if size >= 1000 else str(size), workload, str(connections), name,
                                 f"{cell.rate:.0f}", f"{cell.pct(.5):.1f}", f"{cell.pct(.99):.1f}", f"{cell.cpu_ms:.2f}",
                                 fmt_ratio(cell.rate / peer.rate if peer and peer.rate else float("nan")),
                                 fmt_ratio(cell.pct(.99) / peer.pct(.99) if peer else float("nan")),
                                 fmt_ratio(cell.cpu_ms / peer.cpu_ms if peer else float("nan")),
                                 str(len(cell.errors))])
                    for message in cell.errors[:3]:
                        print(f"error {name} {workload} {connections}: {message}", file=sys.stderr)
                    print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    finally:
        for server in servers:
            server.stop()
        from service import db
        await db.drop_database(url, args.database_url)
    return rows


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL")
                        or os.environ.get("TEST_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/test",
                        help="a PostgreSQL server to make the scratch databases on (default: TEST_DATABASE_URL)")
    parser.add_argument("--sizes", default="1000,100000", help="cooperations per run, comma separated")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per cell (default 5)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per server (default 3)")
    parser.add_argument("--connections", default="1,8,32", help="keep-alive connections, comma separated")
    parser.add_argument("--workloads", default="list,partner,search,mix")
    parser.add_argument("--servers", default="peer,w2-std,w1-nocache,w2-std-nocache",
                        help="peer (PostGraphile), w1/w2 (ikz serve, asyncio+h11), w1-std/w2-std (uvloop+httptools); "
                        "with -nocache: the response cache off")
    parser.add_argument("--no-peer", action="store_true", help="measure only this service")
    parser.add_argument("--base", metavar="DIR", help="also serve another checkout as `base` (1 worker, its default "
                        "loop and parser), e.g. `git worktree add /tmp/before HEAD~1`: before/after in one run")
    parser.add_argument("--py-spy", metavar="DIR", help="record this service's servers with py-spy (pip install "
                        "py-spy; not a dependency) during every cell: collapsed stacks in DIR/<cell>.txt")
    parser.add_argument("--base-nocache", action="store_true", help="serve --base with the response cache off")
    args = parser.parse_args()
    args.base_name = "base" + (NO_CACHE if args.base_nocache else "")
    args.connections = [int(c) for c in args.connections.split(",")]
    args.workloads = [w.strip() for w in args.workloads.split(",")]
    names = [n.strip() for n in args.servers.split(",") if n.strip()]
    peer_reason = "--no-peer" if args.no_peer else peer_unavailable()
    if not std_available():
        dropped = [n for n in names if n.removesuffix(NO_CACHE).endswith("-std")]
        if dropped:
            print(f"{', '.join(dropped)} skipped: uvloop/httptools are not installed", file=sys.stderr)
        names = [n for n in names if n not in dropped]
    unknown = [n for n in names if not known(n)]
    if unknown:
        parser.error(f"unknown servers: {unknown}")
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    started = time.perf_counter()
    rows: list[list[str]] = []
    work = Path(tempfile.mkdtemp(prefix="ikz-peer-"))
    try:
        for size in sizes:
            rows += await run_size(args, size, work, names, peer_reason)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{os.cpu_count()} CPUs, {args.seconds:.0f} s per cell, closed loop; server CPU = utime+stime of the "
          "server process tree; ratios this / peer (req/s: higher is better; p99 and CPU: lower is better).\n")
    print_table(rows)
    if peer_reason:
        print(f"\nPostGraphile not measured: {peer_reason}")
    print(f"\nTotal runtime {time.perf_counter() - started:.0f} s.")
    return 1 if any(r[-1] != "0" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

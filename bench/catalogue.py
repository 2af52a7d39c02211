"""Benchmark: the public cooperation list over GraphQL against one hand-written SQL statement.

    .venv/bin/python bench/catalogue.py [--database-url postgres://…] [--sizes 1000,100000] [--repeat N]
                                        [--sqlite-pragmas cache_size=-65536] [--profile]

What is measured, and why
-------------------------
The public catalogue's main request is a page of cooperations with their legal
form, topic fields, partners and public contacts. We want to know two things:

1. What the GraphQL layer costs. For a page of 50 rows we time
   (a) the real request: POST /graphql through the real ASGI app
       (`ikz.app.create_app`, development settings as in tests/conftest.py,
       driven in-process by httpx.ASGITransport, response decoded with .json()), and
   (b) a floor: ONE SQL statement that builds the same JSON document in the
       database (json_object/json_group_array on SQLite, json_build_object/json_agg
       on PostgreSQL), run through the same tortoise connection and decoded with
       json.loads (plus the cursor encoding, which SQLite cannot do).
   Both sides hand back the same Python data; the ratio a/b is the price of the
   layer (ASGI + HTTP, strawberry/graphql-core, the view objects, several statements
   instead of one). Before timing, the two documents are compared field by field;
   the benchmark stops with exit code 1 if they differ.

2. Whether the cost of a page depends on the size of the catalogue. Every size
   (default 1,000 and 100,000 cooperations) gets a fresh database: the real
   migrations, the real seeds (reference data and the ~130 seed cooperations), then
   generated data inserted in bulk SQL up to the requested number of cooperations:
   a few thousand municipalities in generated districts below the seed states (with
   their ancestor closure rows), cooperations with German titles (sort_title and
   search_text computed by the real service.catalogue.text functions), 2–5 partners
   (clustered by district, skewed so some towns take part in many), 1–2 topic
   fields, legal form, status, start year, and contact persons: PUBLIC ones on about
   a third of the cooperations, and a few hidden (not yet public) ones that must
   never show up. SQLite's FTS5 index is filled by the migration's triggers and
   checked with FTS5's integrity-check; then ANALYZE (VACUUM ANALYZE on PostgreSQL).

Three request variants: `list` (no filter), `partner` (filtered by the partner with
the most cooperations), `search` (full-text search for a common word). Each side is
warmed up, then timed for about two seconds (or --repeat N times), the two sides'
runs interleaved so that load elsewhere on the machine hits both alike; we report
median and p90 in milliseconds, the matches (totalCount), and the SQL statements
per GraphQL request (from the response's extensions.sqlQueries, which development
settings switch on). --profile adds a cProfile of the GraphQL requests.

--compare-execution measures schema/execution.py instead: the `list` page through the app with
PlainFieldExecutionContext and through the same app with stock strawberry execution, the two
alternating request by request (--repeat N each, default 300), answers compared first.

Without --database-url a temporary SQLite file is used (--sqlite-pragmas adds
connection PRAGMAs through the URL, as DATABASE_URL can in production, e.g.
cache_size=-65536). With a postgres:// URL a database ikz_bench_<hex> is created
on that server for every size and dropped afterwards (as tests/conftest.py does).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import io
import json
import pstats
import random
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `python bench/catalogue.py` from anywhere

import httpx  # noqa: E402

from service import db  # noqa: E402
from service.catalogue import tallies  # noqa: E402
from service.catalogue.seed import load_seeds  # noqa: E402
from service.catalogue.text import fold, fts5_query, query_terms, search_document, sort_key, tsquery  # noqa: E402
from service.config import Settings, set_settings  # noqa: E402
from service.pagination import encode_cursor  # noqa: E402
from service.sql import render  # noqa: E402

PAGE_SIZE = 50
DEFAULT_SIZES = (1_000, 100_000)
WARMUP_RUNS = 5
SECONDS_PER_MEASUREMENT = 2.0
MIN_REPEAT, MAX_REPEAT = 10, 2_000
SEARCH_TERM = "abwasser"
ORDERING = "TITLE:ASC"  # the cursor ordering key of the default order (service.catalogue.cooperations)
BASE_URL = "https://ikz.example.org"
SEED = 20240607  # fixed: every run generates the same data

N_DISTRICTS = 120
N_MUNICIPALITIES = 3_000

NODE_SELECTION = (
    "totalCount edges { node { id title status startYear sinceText dataAsOf legalForm { code label } "
    "topicFields { id label } partners { role organization { id name } } contacts { id name email phone } } } "
    "pageInfo { hasNextPage endCursor }"
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- databases --------------------------------------------------------------------------------


async def create_postgres_database(admin_url: str) -> str:
    return await db.create_database_beside(admin_url, "ikz_bench")


async def drop_postgres_database(url: str, admin_url: str) -> None:
    await db.drop_database(url, admin_url)


def make_settings(var_dir: Path, database_url: str) -> Settings:
    """Development settings, built as tests/conftest.py's make_settings does."""
    return Settings(
        app_env="development",
        var_dir=var_dir,
        database_url=database_url,
        public_base_url=BASE_URL,
        secret_key=secrets.token_urlsafe(48),
        run_mail_worker=False,
        # Off: the benches repeat one request, which the cache would answer from memory after the first.
        response_cache_bytes=0,
        argon2_time_cost=2,
        argon2_memory_kib=19456,
        argon2_parallelism=1,
    )


def is_postgres() -> bool:
    return db.dialect() == "postgres"


async def scalar(sql: str, params: list[Any] | None = None) -> Any:
    rows = await db.connection().execute_query_dict(render(sql, db.dialect()), params or [])
    return next(iter(rows[0].values())) if rows else None


async def bulk_insert(table: str, columns: list[str], rows: list[tuple]) -> None:
    """Many rows at once: COPY on PostgreSQL, one executemany in one transaction on SQLite."""
    if not rows:
        return
    conn = db.connection()
    if is_postgres():
        async with conn.acquire_connection() as raw:
            await raw.copy_records_to_table(table, records=rows, columns=columns)
    else:
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        await conn.execute_many(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', [list(r) for r in rows])


# --- generated data ---------------------------------------------------------------------------

TOWN_STEMS = (
    "Alt", "Neu", "Ober", "Nieder", "Groß", "Klein", "Hohen", "Wald", "Berg", "Linden", "Roth", "Schön", "Mühl",
    "Weiß", "Kirch", "Hoch", "Stein", "Eich", "Buch", "Lich", "Frei", "Sülz", "Dür", "Brück", "Hütten", "Ross",
    "Fried", "Her", "Wer", "Ham", "Lün", "Bön", "Kam", "Sel", "Holz", "Fröndel", "Asch", "Bers", "Dorn", "Ebers",
    "Falken", "Gräfen", "Hasel", "Ilsen", "Jägers", "Königs", "Löwen", "Marien", "Nord", "Oster", "Pfaffen",
    "Quer", "Rosen", "Sonnen", "Tann", "Ulmen", "Vier", "Wolfs", "Zell", "Adels", "Bären", "Christ", "Diet",
)
TOWN_ENDINGS = (
    "hausen", "heim", "dorf", "bach", "berg", "burg", "feld", "stadt", "au", "tal", "ingen", "rode", "hagen",
    "furt", "kirchen", "beck", "brück", "weiler", "stedt", "born", "wald", "horst", "büttel", "see", "hofen",
    "ow", "itz", "leben", "münster", "werder",
)
TOWN_QUALIFIERS = ("", "", "", "", " an der Ruhr", " am Main", " im Allgäu", " (Westf.)", " an der Lahn", " am See",
                   " bei Köln", " in der Pfalz", " (Saar)")
TASKS = (
    "Abwasserbeseitigung", "Abwasserentsorgung", "Abfallentsorgung", "Wasserversorgung", "Breitbandausbau",
    "Feuerwehrausbildung", "Rettungsdienst", "Leitstelle", "Bauhof", "Winterdienst", "Straßenunterhaltung",
    "Grünflächenpflege", "Friedhofsverwaltung", "Standesamt", "Vergabestelle", "Rechnungsprüfung",
    "Personalabrechnung", "Beihilfebearbeitung", "IT-Dienstleistungen", "Datenschutzbeauftragte",
    "Informationssicherheit", "E-Government", "Geoinformationssystem", "Vermessung", "Bauaufsicht",
    "Denkmalpflege", "Wirtschaftsförderung", "Tourismusförderung", "Stadtmarketing", "Regionalplanung",
    "Klimaschutzmanagement", "Energieberatung", "Gebäudemanagement", "Schülerbeförderung", "Volkshochschule",
    "Musikschule", "Bibliotheksverbund", "Jugendarbeit", "Seniorenberatung", "Integrationsarbeit",
    "Gleichstellungsstelle", "Kindertagespflege", "Schulsozialarbeit", "Ordnungsdienst", "Gewerbeaufsicht",
    "Lebensmittelüberwachung", "Veterinärwesen", "Tierheim", "Katastrophenschutz", "Jobcenter", "Wohngeldstelle",
    "Kassen- und Steuerwesen", "Vollstreckung", "Archiv", "Fördermittelmanagement", "Fuhrpark", "Beschaffung",
    "Straßenbeleuchtung", "Öffentlicher Personennahverkehr", "Radwegenetz", "Gewässerunterhaltung",
    "Hochwasserschutz", "Forstbetrieb", "Kläranlage", "Schwimmbad", "Sportstättenbetrieb", "Kulturförderung",
    "Sprachförderung", "Klärschlammverwertung", "Abwasserabgabe", "Schulentwicklungsplanung", "Zulassungsstelle",
)
TITLE_PREFIXES = ("Gemeinsame", "Interkommunale", "Zweckverband", "Kooperation", "Zentrale", "Regionale",
                  "Arbeitsgemeinschaft", "Verbund", "Gemeinsamer Betrieb", "Öffentlich-rechtliche Vereinbarung")
TITLE_TAILS = (" Nord", " Süd", " Ost", " West", " Mitte", " (Pilotprojekt)", " – Phase 2", " Nachbarschaft")
FIRST_NAMES = (
    ("Frau", "Anna"), ("Frau", "Julia"), ("Frau", "Sabine"), ("Frau", "Petra"), ("Frau", "Birgit"),
    ("Frau", "Katharina"), ("Frau", "Jana"), ("Frau", "Monika"), ("Frau", "Ursula"), ("Frau", "Claudia"),
    ("Frau", "Susanne"), ("Frau", "Andrea"), ("Frau", "Stefanie"), ("Frau", "Nicole"), ("Frau", "Lea"),
    ("Frau", "Hanna"), ("Frau", "Sophie"), ("Frau", "Marie"), ("Frau", "Özlem"), ("Frau", "Bärbel"),
    ("Herr", "Jürgen"), ("Herr", "Thomas"), ("Herr", "Michael"), ("Herr", "Andreas"), ("Herr", "Stefan"),
    ("Herr", "Frank"), ("Herr", "Jens"), ("Herr", "Markus"), ("Herr", "Uwe"), ("Herr", "Klaus"), ("Herr", "Björn"),
    ("Herr", "Sören"), ("Herr", "Jörg"), ("Herr", "Matthias"), ("Herr", "Tobias"), ("Herr", "Lukas"),
    ("Herr", "Felix"), ("Herr", "Mehmet"), ("Herr", "Dirk"), ("Herr", "Rüdiger"),
)
LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
    "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier",
    "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser",
    "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert", "Vogel", "Friedrich",
    "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz", "Baumann", "Franke", "Albrecht",
    "Yılmaz", "Kaya", "Nowak", "Große-Böckmann", "von der Heide",
)
FUNCTIONS = ("Sachbearbeitung", "Sachgebietsleitung", "Fachbereichsleitung", "Koordination", "Bürgermeisterbüro",
             "Kämmerei", "Projektleitung")
STATUSES = (("ACTIVE", 70), ("ENDED", 15), ("PLANNED", 10), ("NOT_REALIZED", 5))
HIDDEN_STATES = ("CREATED", "INVITED", "AWAITING_APPROVAL", "DELETED")


def zipf_cum_weights(n: int, exponent: float = 0.9, offset: float = 2.0) -> list[float]:
    total, cum = 0.0, []
    for rank in range(n):
        total += 1.0 / (rank + offset) ** exponent
        cum.append(total)
    return cum


def slug(text: str) -> str:
    return fold(text).replace(" ", "-")


@dataclass
class Generated:
    municipalities: int = 0
    cooperations: int = 0
    partners: int = 0
    topic_links: int = 0
    contacts_public: int = 0
    contacts_hidden: int = 0
    contact_links: int = 0
    seconds_generate: float = 0.0
    seconds_insert: float = 0.0


async def next_id(table: str) -> int:
    return int(await scalar(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"'))


async def generate(total_cooperations: int, rng: random.Random) -> Generated:
    """Fill the seeded database up to `total_cooperations`, with bulk inserts (ids assigned here)."""
    stats = Generated()
    started = time.perf_counter()
    pg = is_postgres()
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    stamp = now if pg else str(now)  # tortoise stores '2024-01-01 00:00:00+00:00' text on SQLite

    def day(value: dt.date):
        return value if pg else value.isoformat()

    existing = int(await scalar("SELECT COUNT(*) FROM cooperation"))
    extra = max(0, total_cooperations - existing)
    state_ids = [r["id"] for r in await db.connection().execute_query_dict(
        "SELECT id FROM organization WHERE kind = 'STATE' ORDER BY id")]
    topic_ids = [r["id"] for r in await db.connection().execute_query_dict("SELECT id FROM topic_field ORDER BY id")]
    legal_codes = [r["code"] for r in await db.connection().execute_query_dict("SELECT code FROM legal_form")]

    # Organisations: districts below the seed states, municipalities below the districts.
    org_id, anc_id = await next_id("organization"), await next_id("organization_ancestor")
    org_rows: list[tuple] = []
    anc_rows: list[tuple] = []
    names: set[str] = set()

    def town_name() -> str:
        while True:
            name = rng.choice(TOWN_STEMS) + rng.choice(TOWN_ENDINGS) + rng.choice(TOWN_QUALIFIERS)
            if name not in names:
                names.add(name)
                return name

    org_columns = ["id", "name", "kind", "ags", "parent_id", "sort_name", "search_text", "created_at", "updated_at"]
    anc_columns = ["id", "organization_id", "ancestor_id", "depth"]
    districts: list[tuple[int, int, str]] = []  # (id, state id, name)
    for d in range(N_DISTRICTS):
        state = state_ids[d % len(state_ids)]
        name = ("Kreis " if d % 3 else "Landkreis ") + town_name()
        org_rows.append((org_id, name, "DISTRICT", f"9{d:04d}", state, sort_key(name), search_document(name), stamp, stamp))
        anc_rows += [(anc_id, org_id, org_id, 0), (anc_id + 1, org_id, state, 1)]
        anc_id += 2
        districts.append((org_id, state, name))
        org_id += 1
    towns_by_district: dict[int, list[tuple[int, str]]] = {d[0]: [] for d in districts}
    for m in range(N_MUNICIPALITIES):
        district_id, state, _ = districts[m % N_DISTRICTS]
        name = ("Stadt " if m % 7 == 0 else "Gemeinde " if m % 11 == 0 else "") + town_name()
        org_rows.append((org_id, name, "MUNICIPALITY", f"9{m:07d}", district_id, sort_key(name),
                         search_document(name), stamp, stamp))
        anc_rows += [(anc_id, org_id, org_id, 0), (anc_id + 1, org_id, district_id, 1), (anc_id + 2, org_id, state, 2)]
        anc_id += 3
        towns_by_district[district_id].append((org_id, name))
        org_id += 1
    stats.municipalities = N_MUNICIPALITIES
    district_cum = zipf_cum_weights(N_DISTRICTS, 0.6)
    town_cum = {d: zipf_cum_weights(len(t), 1.0, 1.0) for d, t in towns_by_district.items()}

    # Cooperations with partners, topic fields and contacts.
    coop_id = await next_id("cooperation")
    part_id, topic_id = await next_id("cooperation_partner"), await next_id("cooperation_topic_field")
    contact_id, link_id = await next_id("contact"), await next_id("contact_cooperation")
    coop_columns = ["id", "title", "legal_form_id", "performer_kind", "since_text", "start_year", "status",
                    "data_as_of", "version", "sort_title", "search_text", "created_at", "updated_at"]
    part_columns = ["id", "cooperation_id", "organization_id", "role", "position"]
    topic_columns = ["id", "cooperation_id", "topic_field_id"]
    contact_columns = ["id", "organization_id", "state", "salutation", "title", "first_name", "last_name", "function",
                       "email", "phone", "consent_at", "confirmed_at", "last_approved_change_at", "version",
                       "demo", "created_at", "updated_at"]
    link_columns = ["id", "contact_id", "cooperation_id"]
    coop_rows, part_rows, topic_rows, contact_rows, link_rows = [], [], [], [], []
    contacts_of_org: dict[int, list[int]] = {}
    emails: set[str] = set()
    status_values, status_weights = zip(*STATUSES)
    first_as_of = dt.date(2016, 1, 12).toordinal()
    last_as_of = dt.date(2025, 6, 30).toordinal()

    def new_contact(org: int, state: str) -> int:
        nonlocal contact_id
        salutation, first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        email = f"{slug(first)}.{slug(last)}@example.org"
        n = 2
        while email in emails:
            email = f"{slug(first)}.{slug(last)}{n}@example.org"
            n += 1
        emails.add(email)
        phone = f"+49 {rng.randint(2000, 9999)} {rng.randint(10, 99)}-{rng.randint(100, 9999)}" if rng.random() < 0.8 else None
        public = state == "PUBLIC"
        contact_rows.append((
            contact_id, org, state, salutation, "Dr." if rng.random() < 0.08 else None, first, last,
            f"{rng.choice(FUNCTIONS)} {rng.choice(TASKS)}", email, phone,
            stamp if public else None, stamp if public else None, stamp if public else None, 1, False, stamp, stamp,
        ))
        contact_id += 1
        return contact_id - 1

    for _ in range(extra):
        district_index = rng.choices(range(N_DISTRICTS), cum_weights=district_cum)[0]
        district_id, _, district_name = districts[district_index]
        towns = towns_by_district[district_id]
        wanted = rng.choices((2, 3, 4, 5), weights=(40, 30, 20, 10))[0]
        chosen: dict[int, str] = {}
        if rng.random() < 0.10:  # the district itself leads
            chosen[district_id] = district_name
        while len(chosen) < wanted:
            if rng.random() < 0.15:  # a town from the neighbouring district
                other = districts[(district_index + 1) % N_DISTRICTS][0]
                oid, oname = rng.choice(towns_by_district[other])
            else:
                oid, oname = towns[rng.choices(range(len(towns)), cum_weights=town_cum[district_id])[0]]
            chosen.setdefault(oid, oname)
        partner_ids, partner_names = list(chosen), list(chosen.values())

        task = rng.choice(TASKS)
        title = f"{rng.choice(TITLE_PREFIXES)} {task}" if rng.random() < 0.5 else task
        tail = rng.random()
        if tail < 0.20:
            title += " im " + district_name
        elif tail < 0.45:
            towns_text = [n.removeprefix("Stadt ").removeprefix("Gemeinde ") for n in partner_names[-3:]]
            title += " " + (", ".join(towns_text[:-1]) + " und " + towns_text[-1])
        elif tail < 0.58:
            title += rng.choice(TITLE_TAILS)
        start_year = rng.randint(1970, 2025) if rng.random() < 0.9 else None
        since = None
        if start_year is not None:
            since = rng.choices(
                (str(start_year), f"01.01.{start_year}", f"Schuljahr {start_year}/{(start_year + 1) % 100:02d}", None),
                weights=(50, 20, 5, 25),
            )[0]
        coop_rows.append((
            coop_id, title, rng.choice(legal_codes) if rng.random() < 0.95 else None, "UNKNOWN", since, start_year,
            rng.choices(status_values, weights=status_weights)[0],
            day(dt.date.fromordinal(rng.randint(first_as_of, last_as_of))), 1, sort_key(title),
            search_document(title, *partner_names), stamp, stamp,
        ))
        lead = rng.random() < 0.4
        for position, oid in enumerate(partner_ids):
            role = "LEAD" if position == 0 and lead else "ASSOCIATED" if position == len(partner_ids) - 1 and rng.random() < 0.1 else "PARTNER"
            part_rows.append((part_id, coop_id, oid, role, position))
            part_id += 1
        for tid in rng.sample(topic_ids, rng.choices((1, 2), weights=(60, 40))[0]):
            topic_rows.append((topic_id, coop_id, tid))
            topic_id += 1
        linked: set[int] = set()
        if rng.random() < 1 / 3:  # 1–2 public contacts, preferably people of the partners already listed
            for _ in range(rng.choice((1, 1, 2))):
                org = rng.choice(partner_ids)
                known = contacts_of_org.setdefault(org, [])
                cid = rng.choice(known) if known and (len(known) >= 3 or rng.random() < 0.7) else new_contact(org, "PUBLIC")
                if cid not in known:
                    known.append(cid)
                linked.add(cid)
        if rng.random() < 0.03:  # someone not (yet) public: must never appear
            linked.add(new_contact(rng.choice(partner_ids), rng.choice(HIDDEN_STATES)))
        for cid in sorted(linked):
            link_rows.append((link_id, cid, coop_id))
            link_id += 1
        coop_id += 1

    stats.cooperations = extra
    stats.partners = len(part_rows)
    stats.topic_links = len(topic_rows)
    stats.contacts_public = sum(1 for r in contact_rows if r[2] == "PUBLIC")
    stats.contacts_hidden = len(contact_rows) - stats.contacts_public
    stats.contact_links = len(link_rows)
    stats.seconds_generate = time.perf_counter() - started

    started = time.perf_counter()
    await bulk_insert("organization", org_columns, org_rows)
    await bulk_insert("organization_ancestor", anc_columns, anc_rows)
    await bulk_insert("cooperation", coop_columns, coop_rows)  # on SQLite the FTS5 triggers index each row
    await bulk_insert("cooperation_partner", part_columns, part_rows)
    await bulk_insert("cooperation_topic_field", topic_columns, topic_rows)
    await bulk_insert("contact", contact_columns, contact_rows)
    await bulk_insert("contact_cooperation", link_columns, link_rows)
    if pg:  # explicit ids were inserted: move the serial sequences past them
        for table in ("organization", "organization_ancestor", "cooperation", "cooperation_partner",
                      "cooperation_topic_field", "contact", "contact_cooperation"):
            await scalar(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM \"{table}\"))")
    stats.seconds_insert = time.perf_counter() - started
    return stats


async def check_and_analyze() -> float:
    """Fold the facet tally, check the search index (SQLite), refresh planner statistics; returns the seconds spent."""
    started = time.perf_counter()
    await tallies.fold()  # as the housekeeping loop would: the bulk load appended a tally row per link
    conn = db.connection()
    if is_postgres():
        await conn.execute_script("VACUUM (ANALYZE)")
    else:
        # FTS5 compares its index with the content table and raises SQLITE_CORRUPT_VTAB on any mismatch.
        await conn.execute_script("INSERT INTO cooperation_fts(cooperation_fts, rank) VALUES ('integrity-check', 1)")
        indexed = await scalar("SELECT COUNT(*) FROM cooperation_fts")
        rows = await scalar("SELECT COUNT(*) FROM cooperation")
        if indexed != rows:
            raise SystemExit(f"FTS5 index holds {indexed} rows, cooperation {rows}")
        await conn.execute_script("ANALYZE")
    return time.perf_counter() - started


# --- the two sides ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    name: str
    graphql: str
    where_sql: str  # on alias c, `?` placeholders, the same clauses service.catalogue.cooperations builds
    where_params: tuple


def variants(busiest_partner: int) -> list[Variant]:
    terms = query_terms(SEARCH_TERM)
    if is_postgres():
        search_sql = "c.search_vector @@ to_tsquery('simple', ?)"
        search_param = tsquery(terms)
    else:
        search_sql = "c.id IN (SELECT rowid FROM cooperation_fts WHERE cooperation_fts MATCH ?)"
        search_param = fts5_query(terms)
    return [
        Variant("list", f"query {{ cooperations(first: {PAGE_SIZE}) {{ {NODE_SELECTION} }} }}", "", ()),
        Variant(
            "partner",
            f'query {{ cooperations(first: {PAGE_SIZE}, filter: {{partnerIds: ["{busiest_partner}"]}}) '
            f"{{ {NODE_SELECTION} }} }}",
            "WHERE c.id IN (SELECT p.cooperation_id FROM cooperation_partner p WHERE p.organization_id IN (?))",
            (busiest_partner,),
        ),
        Variant(
            "search",
            f'query {{ cooperations(first: {PAGE_SIZE}, search: "{SEARCH_TERM}") {{ {NODE_SELECTION} }} }}',
            f"WHERE {search_sql}",
            (search_param,),
        ),
    ]


# `name` as schema.catalogue.types.Contact.name builds it: title, first and last name, blanks left out.
SQLITE_DOCUMENT = """
WITH page AS (
    SELECT c.id, c.title, c.status, c.start_year, c.since_text, c.data_as_of, c.legal_form_id, c.sort_title
    FROM cooperation c {where} ORDER BY c.sort_title, c.id LIMIT {limit_plus_one}
),
shown AS (SELECT * FROM page ORDER BY sort_title, id LIMIT {limit})
SELECT json_object('cooperations', json_object(
    'totalCount', (SELECT COUNT(*) FROM cooperation c {where}),
    'edges', json((SELECT json_group_array(json_object('node', json_object(
        'id', CAST(s.id AS TEXT),
        'title', s.title,
        'status', s.status,
        'startYear', s.start_year,
        'sinceText', s.since_text,
        'dataAsOf', s.data_as_of,
        'legalForm', json((SELECT json_object('code', f.code, 'label', f.label)
                           FROM legal_form f WHERE f.code = s.legal_form_id)),
        'topicFields', json((SELECT json_group_array(json_object('id', CAST(t.id AS TEXT), 'label', t.label))
                             FROM (SELECT t.id, t.label FROM cooperation_topic_field x
                                   JOIN topic_field t ON t.id = x.topic_field_id
                                   WHERE x.cooperation_id = s.id ORDER BY t.position) t)),
        'partners', json((SELECT json_group_array(json_object(
                              'role', p.role, 'organization', json_object('id', CAST(p.oid AS TEXT), 'name', p.name)))
                          FROM (SELECT p.role, o.id AS oid, o.name FROM cooperation_partner p
                                JOIN organization o ON o.id = p.organization_id
                                WHERE p.cooperation_id = s.id ORDER BY p.position, p.id) p)),
        'contacts', json((SELECT json_group_array(json_object(
                              'id', CAST(k.id AS TEXT), 'name', k.name, 'email', k.email, 'phone', k.phone))
                          FROM (SELECT k.id, k.email, k.phone,
                                       rtrim(COALESCE(NULLIF(k.title, '') || ' ', '')
                                             || COALESCE(NULLIF(k.first_name, '') || ' ', '')
                                             || COALESCE(NULLIF(k.last_name, ''), '')) AS name
                                FROM contact_cooperation cc JOIN contact k ON k.id = cc.contact_id
                                WHERE cc.cooperation_id = s.id AND k.state = 'PUBLIC'
                                ORDER BY k.last_name, k.first_name, k.id) k))
    ))) FROM (SELECT * FROM shown ORDER BY sort_title, id) s)),
    'pageInfo', json_object(
        'hasNextPage', json(CASE WHEN (SELECT COUNT(*) FROM page) > {limit} THEN 'true' ELSE 'false' END),
        'endCursor', json((SELECT json_array(sort_title, id) FROM shown ORDER BY sort_title DESC, id DESC LIMIT 1))
    )
)) AS doc
"""

POSTGRES_DOCUMENT = """
WITH page AS (
    SELECT c.id, c.title, c.status, c.start_year, c.since_text, c.data_as_of, c.legal_form_id, c.sort_title
    FROM cooperation c {where} ORDER BY c.sort_title COLLATE "C", c.id LIMIT {limit_plus_one}
),
shown AS (SELECT * FROM page ORDER BY sort_title COLLATE "C", id LIMIT {limit})
SELECT json_build_object('cooperations', json_build_object(
    'totalCount', (SELECT COUNT(*) FROM cooperation c {where}),
    'edges', COALESCE((SELECT json_agg(json_build_object('node', json_build_object(
        'id', s.id::text,
        'title', s.title,
        'status', s.status,
        'startYear', s.start_year,
        'sinceText', s.since_text,
        'dataAsOf', s.data_as_of,
        'legalForm', (SELECT json_build_object('code', f.code, 'label', f.label)
                      FROM legal_form f WHERE f.code = s.legal_form_id),
        'topicFields', COALESCE((SELECT json_agg(json_build_object('id', t.id::text, 'label', t.label) ORDER BY t.position)
                                 FROM cooperation_topic_field x JOIN topic_field t ON t.id = x.topic_field_id
                                 WHERE x.cooperation_id = s.id), '[]'::json),
        'partners', COALESCE((SELECT json_agg(json_build_object(
                                  'role', p.role, 'organization', json_build_object('id', o.id::text, 'name', o.name))
                                  ORDER BY p.position, p.id)
                              FROM cooperation_partner p JOIN organization o ON o.id = p.organization_id
                              WHERE p.cooperation_id = s.id), '[]'::json),
        'contacts', COALESCE((SELECT json_agg(json_build_object(
                                  'id', k.id::text,
                                  'name', concat_ws(' ', NULLIF(k.title, ''), NULLIF(k.first_name, ''), NULLIF(k.last_name, '')),
                                  'email', k.email, 'phone', k.phone)
                                  ORDER BY k.last_name, k.first_name, k.id)
                              FROM contact_cooperation cc JOIN contact k ON k.id = cc.contact_id
                              WHERE cc.cooperation_id = s.id AND k.state = 'PUBLIC'), '[]'::json)
    )) ORDER BY s.sort_title COLLATE "C", s.id) FROM shown s), '[]'::json),
    'pageInfo', json_build_object(
        'hasNextPage', (SELECT COUNT(*) FROM page) > {limit},
        'endCursor', (SELECT json_build_array(sort_title, id) FROM shown ORDER BY sort_title COLLATE "C" DESC, id DESC LIMIT 1)
    )
))::text AS doc
"""


def baseline_statement(variant: Variant) -> tuple[str, list[Any]]:
    template = POSTGRES_DOCUMENT if is_postgres() else SQLITE_DOCUMENT
    sql = template.format(where=variant.where_sql, limit=PAGE_SIZE, limit_plus_one=PAGE_SIZE + 1)
    params = [*variant.where_params, *variant.where_params]  # the page, then totalCount
    return render(sql, db.dialect()), params


async def run_baseline(sql: str, params: list[Any]) -> dict:
    rows = await db.connection().execute_query_dict(sql, params)
    document = json.loads(rows[0]["doc"])
    page_info = document["cooperations"]["pageInfo"]
    if page_info["endCursor"] is not None:  # [sort_title, id] -> the API's opaque cursor
        page_info["endCursor"] = encode_cursor(ORDERING, *page_info["endCursor"])
    return document


async def run_graphql(client: httpx.AsyncClient, query: str) -> dict:
    response = await client.post("/graphql", json={"query": query})
    return response.json()


def first_difference(a: Any, b: Any, path: str = "data") -> str | None:
    if type(a) is not type(b):
        return f"{path}: GraphQL {a!r} vs baseline {b!r}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b), key=lambda k: (k != "id", k)):  # ids first: the clearest message
            if key not in a or key not in b:
                return f"{path}.{key}: only in {'GraphQL' if key in a else 'baseline'}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items in GraphQL, {len(b)} in baseline"
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: GraphQL {a!r} vs baseline {b!r}"


def verify(name: str, body: dict, baseline: dict) -> dict:
    """Both sides must deliver the same document; stop the benchmark loudly otherwise."""
    if body.get("errors") or not body.get("data"):
        raise SystemExit(f"FAIL [{name}]: GraphQL answered with errors: {json.dumps(body.get('errors'))[:2000]}")
    difference = first_difference(body["data"], baseline)
    if difference:
        raise SystemExit(f"FAIL [{name}]: GraphQL and baseline documents differ at {difference}")
    connection = body["data"]["cooperations"]
    edges = connection["edges"]
    if len(edges) != min(PAGE_SIZE, connection["totalCount"]) or not edges:
        raise SystemExit(f"FAIL [{name}]: {len(edges)} edges for totalCount {connection['totalCount']}")
    if any(not e["node"]["partners"] for e in edges):
        raise SystemExit(f"FAIL [{name}]: a cooperation without partners")
    return {
        "rows": len(edges),
        "total": connection["totalCount"],
        "partners": sum(len(e["node"]["partners"]) for e in edges),
        "contacts": sum(len(e["node"]["contacts"]) for e in edges),
    }


# --- timing -----------------------------------------------------------------------------------


@dataclass
class Timing:
    samples_ms: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return percentile(self.samples_ms, 50)

    @property
    def p90(self) -> float:
        return percentile(self.samples_ms, 90)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def warm_up(call) -> float:
    """Run `call` a few times; returns the median seconds of the later runs."""
    seconds = []
    for _ in range(WARMUP_RUNS):
        t0 = time.perf_counter()
        await call()
        seconds.append(time.perf_counter() - t0)
    return percentile(seconds[2:], 50)


async def measure_pair(graphql_call, baseline_call, repeat: int | None) -> tuple[Timing, Timing]:
    """Time both sides interleaved, so a burst of load elsewhere on the machine hits both alike.

    Each side gets `repeat` runs, or by default about SECONDS_PER_MEASUREMENT seconds' worth.
    """
    per_call = {"graphql": await warm_up(graphql_call), "baseline": await warm_up(baseline_call)}
    counts = {
        side: repeat or max(MIN_REPEAT, min(MAX_REPEAT, int(SECONDS_PER_MEASUREMENT / max(t, 1e-6))))
        for side, t in per_call.items()
    }
    calls = {"graphql": graphql_call, "baseline": baseline_call}
    timings = {"graphql": Timing(), "baseline": Timing()}
    # Spread each side's runs evenly over the whole measurement: e.g. 1 GraphQL run, 10 baseline runs, ...
    schedule = sorted((i / n, side) for side, n in counts.items() for i in range(n))
    for _, side in schedule:
        t0 = time.perf_counter()
        await calls[side]()
        timings[side].samples_ms.append((time.perf_counter() - t0) * 1000)
    return timings["graphql"], timings["baseline"]


@dataclass
class Result:
    database: str
    size: int
    query: str
    graphql: Timing
    baseline: Timing
    statements: int
    shape: dict

    @property
    def ratio(self) -> float:
        return self.graphql.median / self.baseline.median


async def profile_graphql(client: httpx.AsyncClient, query: str, label: str, runs: int = 100) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        await run_graphql(client, query)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
    out.write(f"\n== cProfile: {runs} GraphQL requests, {label}, sorted by own time ==\n")
    stats.print_stats(25)
    log(out.getvalue())


# --- one size ---------------------------------------------------------------------------------


async def compare_execution(settings: Settings, database: str, size: int, repeat: int | None) -> None:
    """The `list` page with and without schema/execution.py, alternating (see the module docstring)."""
    import schema.build
    from ikz.app import create_app
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

    plain_app = create_app(settings, manage_db=False)
    saved = schema.build.PlainFieldExecutionContext
    schema.build.PlainFieldExecutionContext = StrawberryGraphQLCoreExecutionContext
    try:
        stock_app = create_app(settings, manage_db=False)
    finally:
        schema.build.PlainFieldExecutionContext = saved
    query = variants(0)[0].graphql
    runs = repeat or 300
    samples: dict[str, list[float]] = {"plain": [], "stock": []}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=plain_app), base_url=BASE_URL) as plain, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=stock_app), base_url=BASE_URL) as stock:
        clients = {"plain": plain, "stock": stock}
        answers = [await run_graphql(c, query) for c in clients.values()]
        if answers[0]["data"] != answers[1]["data"]:
            raise SystemExit("the two execution paths answer differently")
        for client in clients.values():
            await warm_up(lambda: run_graphql(client, query))
        for i in range(runs):
            for side in ("plain", "stock") if i % 2 == 0 else ("stock", "plain"):
                t0 = time.perf_counter()
                await run_graphql(clients[side], query)
                samples[side].append((time.perf_counter() - t0) * 1000)
    plain_ms, stock_ms = percentile(samples["plain"], 50), percentile(samples["stock"], 50)
    print(f"{database} {size:,} list: execution.py {plain_ms:.2f} ms, stock strawberry {stock_ms:.2f} ms "
          f"(median of {runs} alternating runs each): {100 * (stock_ms - plain_ms) / stock_ms:+.1f}% faster")


async def bench_size(database: str, url: str, var_dir: Path, size: int, repeat: int | None, profile: bool,
                     compare: bool = False) -> list[Result]:
    settings = make_settings(var_dir, url)
    set_settings(settings)
    db.install_query_counting()
    try:
        t0 = time.perf_counter()
        await db.migrate(url)
        await db.close_db()
        await db.init_db(url)
        await load_seeds()
        t_seed = time.perf_counter() - t0
        generated = await generate(size, random.Random(SEED))
        t_check = await check_and_analyze()
        total = await scalar("SELECT COUNT(*) FROM cooperation")
        log(
            f"[{database} {size:,}] migrate+seeds {t_seed:.1f}s; generated {generated.cooperations:,} cooperations, "
            f"{generated.municipalities:,} municipalities, {generated.partners:,} partner rows, "
            f"{generated.contacts_public:,} public + {generated.contacts_hidden:,} hidden contacts "
            f"({generated.contact_links:,} links) in {generated.seconds_generate:.1f}s, inserted in "
            f"{generated.seconds_insert:.1f}s, {'VACUUM ANALYZE' if is_postgres() else 'FTS check + ANALYZE'} "
            f"{t_check:.1f}s; {total:,} cooperations in all"
        )
        busiest = (await db.connection().execute_query_dict(
            "SELECT p.organization_id, o.name, COUNT(*) AS n FROM cooperation_partner p "
            "JOIN organization o ON o.id = p.organization_id "
            "GROUP BY p.organization_id, o.name ORDER BY n DESC, p.organization_id LIMIT 1"
        ))[0]
        busiest_id = busiest["organization_id"]
        log(f"[{database} {size:,}] partner filter: {busiest['name']} (id {busiest_id}, {busiest['n']:,} cooperations); "
            f"search: {SEARCH_TERM!r}")

        if compare:
            await compare_execution(settings, database, total, repeat)
            return []
        from ikz.app import create_app

        app = create_app(settings, manage_db=False)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 40000))
        results = []
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            for variant in variants(busiest_id):
                sql, params = baseline_statement(variant)
                body = await run_graphql(client, variant.graphql)
                baseline = await run_baseline(sql, params)
                shape = verify(f"{database} {size} {variant.name}", body, baseline)
                statements = body.get("extensions", {}).get("sqlQueries", -1)
                graphql_timing, baseline_timing = await measure_pair(
                    lambda: run_graphql(client, variant.graphql), lambda: run_baseline(sql, params), repeat
                )
                result = Result(database, total, variant.name, graphql_timing, baseline_timing, statements, shape)
                results.append(result)
                log(
                    f"[{database} {size:,}] {variant.name:7s} verified ({shape['rows']} rows of {shape['total']:,}, "
                    f"{shape['partners']} partners, {shape['contacts']} contacts); GraphQL {graphql_timing.median:.2f} ms "
                    f"(n={len(graphql_timing.samples_ms)}), baseline {baseline_timing.median:.2f} ms "
                    f"(n={len(baseline_timing.samples_ms)}), {statements} statements"
                )
                if profile:
                    await profile_graphql(client, variant.graphql, f"{database} {size:,} {variant.name}")
        return results
    finally:
        await db.close_db()


# --- report -----------------------------------------------------------------------------------


def print_table(headers: list[str], rows: list[list[str]], text_columns: int) -> None:
    """A Markdown table; the first `text_columns` columns left-aligned, the numbers right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    right = [i >= text_columns for i in range(len(headers))]

    def line(cells):
        return "| " + " | ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)) + " |"

    print(line(headers))
    print("|" + "|".join(("-" * (w + 1) + ":") if r else ("-" * (w + 2)) for w, r in zip(widths, right)) + "|")
    for row in rows:
        print(line(row))


def report(results: list[Result]) -> None:
    print()
    print_table(
        ["database", "cooperations", "query", "matches", "GraphQL median ms", "GraphQL p90 ms", "baseline median ms",
         "baseline p90 ms", "ratio", "SQL statements / GraphQL request"],
        [
            [r.database, f"{r.size:,}", r.query, f"{r.shape['total']:,}", f"{r.graphql.median:.2f}", f"{r.graphql.p90:.2f}",
             f"{r.baseline.median:.2f}", f"{r.baseline.p90:.2f}", f"{r.ratio:.1f}", str(r.statements)]
            for r in results
        ],
        text_columns=3,
    )
    # The largest catalogue against the smallest, per database and query.
    by_key: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        by_key.setdefault((r.database, r.query), []).append(r)
    pairs = [(min(rs, key=lambda r: r.size), max(rs, key=lambda r: r.size)) for rs in by_key.values() if len(rs) > 1]
    if pairs:
        small, large = pairs[0][0].size, pairs[0][1].size
        print()
        print(f"Growth of the page cost from {small:,} to {large:,} cooperations (median at {large:,} / median at {small:,}):")
        print_table(
            ["database", "query", "GraphQL", "baseline"],
            [[b.database, b.query, f"{l.graphql.median / b.graphql.median:.2f}x", f"{l.baseline.median / b.baseline.median:.2f}x"]
             for b, l in pairs],
            text_columns=2,
        )
    print()
    print("Targets: ratio <= 8 on SQLite at 50 rows; the API's timing at the largest size within 2x of the smallest "
          "(the baseline's growth is shown above for comparison).")
    for r in results:
        if r.database.startswith("sqlite"):
            verdict = "met" if r.ratio <= 8 else "MISSED"
            print(f"  ratio  {r.database:8s} {r.size:>7,} {r.query:7s} {r.ratio:5.1f}  {verdict}")
    for b, l in pairs:
        growth = l.graphql.median / b.graphql.median
        print(f"  growth {b.database:8s} {b.query:7s} GraphQL  {growth:5.2f}x  {'met' if growth <= 2 else 'MISSED'}")
    print()
    print(
        "How to read: ratio = GraphQL median / baseline median, i.e. what the API layer (ASGI, strawberry, view "
        "objects, several statements) costs over one SQL statement that builds the same JSON for the same 50 rows; "
        "matches = totalCount; the growth table shows whether a page gets slower as the catalogue grows "
        "(1.0x = independent of size; filtered pages grow with their matches, since totalCount is exact)."
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="postgres://… to benchmark PostgreSQL (default: temporary SQLite)")
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES), help="cooperations per run, comma separated")
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per measurement (default: about 2 s worth)")
    parser.add_argument(
        "--sqlite-pragmas",
        default="",
        help="PRAGMAs for the SQLite connection as tortoise takes them from the URL, e.g. cache_size=-65536,mmap_size=268435456",
    )
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of 100 GraphQL requests per variant")
    parser.add_argument("--compare-execution", action="store_true",
                        help="time the list page with and without schema/execution.py, alternating")
    args = parser.parse_args()
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    admin_url = args.database_url.strip()
    if admin_url and not admin_url.startswith("postgres"):
        parser.error("--database-url must be a postgres:// URL (SQLite is the default)")
    pragmas = "&".join(p.strip() for p in args.sqlite_pragmas.split(",") if p.strip())
    if pragmas and admin_url:
        parser.error("--sqlite-pragmas applies to SQLite only")
    database = "postgres" if admin_url else f"sqlite?{pragmas}" if pragmas else "sqlite"
    started = time.perf_counter()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="ikz-bench-") as tmp:
        var_dir = Path(tmp)
        for size in sizes:
            if admin_url:
                url = await create_postgres_database(admin_url)
            else:
                url = f"sqlite://{var_dir / f'bench-{size}.sqlite3'}" + (f"?{pragmas}" if pragmas else "")
            try:
                results += await bench_size(database, url, var_dir, size, args.repeat, args.profile,
                                            args.compare_execution)
            finally:
                if admin_url:
                    await drop_postgres_database(url, admin_url)
    if results:
        report(results)
    print(f"\nTotal runtime {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

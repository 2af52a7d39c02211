"""The seed against its source, seeding twice, indexes, the exported SDL and the layering rule."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from strawberry.printer import print_schema
from tortoise.context import TortoiseContext

from service import db
from service.catalogue.seed import DEFAULT_SEED_DIR, load_seeds
from service.sql import fetch
from tests.conftest import discard_database, fresh_database_url

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "sources" / "004_ad825ee6a0a35707.txt"
needs_source = pytest.mark.skipif(not SOURCE.exists(), reason=f"source document not found at {SOURCE}")


def source_tables() -> tuple[list[list[str]], list[list[str]]]:
    """The two Kreis Unna tables, read straight from the source text (tab-separated rows)."""
    kreis, towns = [], []
    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        if cells[0].strip().isdigit():
            (kreis if len(cells) == 4 else towns if len(cells) == 6 else []).append([c.strip() for c in cells])
    return kreis, towns


def plain(text: str) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"<small>.*?</small>", "", text)).strip()
    # Artefacts of the source's line wrapping (Kreis row 19, town row 28), corrected in the seed.
    return text.replace("Aufgabenüber- nahme", "Aufgabenübernahme").lstrip("•")


@needs_source
async def test_every_row_of_both_kreis_unna_tables_is_in_the_database(database):
    kreis, towns = source_tables()
    assert len(kreis) == 48 and len(towns) == 55
    rows = await fetch(
        "SELECT c.key, c.title, c.since_text, c.partners_text, c.performer_text, c.legal_form_text, c.data_as_of "
        "FROM cooperation c WHERE c.key LIKE 'unna-%'"
    )
    by_key = {r["key"]: r for r in rows}
    for nr, org, title, since in kreis:
        row = by_key[f"unna-kreis-{int(nr):02d}"]
        assert (row["title"], row["since_text"]) == (plain(title), plain(since)), nr
        assert str(row["data_as_of"])[:10] == "2016-01-12"
    for nr, title, partners, performer, legal_form, since in towns:
        row = by_key[f"unna-kommunen-{int(nr):02d}"]
        assert (row["title"], row["since_text"]) == (plain(title), plain(since)), nr
        assert row["partners_text"] == plain(partners), nr
        assert row["performer_text"] == (plain(performer) or None), nr
        assert row["legal_form_text"] == (plain(legal_form) or None), nr


async def test_no_seed_contact_is_a_real_person():
    contacts = json.loads((DEFAULT_SEED_DIR / "demo_contacts.json").read_text(encoding="utf-8"))
    assert contacts
    sources = "".join(p.read_text(encoding="utf-8") for p in (ROOT.parent / "shared" / "sources").glob("*.txt")) \
        if SOURCE.exists() else ""
    for person in contacts:
        assert person["email"].endswith("@example.org")
        if sources:
            assert f"{person['first_name']} {person['last_name']}" not in sources


async def test_seeding_twice_changes_nothing(tmp_path):
    url = await fresh_database_url(tmp_path)
    try:
        async with TortoiseContext() as ctx:
            from tortoise.migrations.api.migrate import migrate

            await migrate(config=db.tortoise_config(url))
        async with TortoiseContext() as ctx:
            await ctx.init(config=db.tortoise_config(url))
            first = await load_seeds()
            counts = await _counts()
            second = await load_seeds()
            assert first.total > 200 and first.inserted["cooperations"] == 48 + 55 + len(
                json.loads((DEFAULT_SEED_DIR / "cooperations_other.json").read_text(encoding="utf-8")))
            assert second.total == 0
            assert await _counts() == counts
    finally:
        await discard_database(url)


async def _counts() -> dict[str, int]:
    tables = ["organization", "organization_ancestor", "cooperation", "cooperation_partner",
              "cooperation_topic_field", "contact", "contact_cooperation", "topic_field", "legal_form"]
    return {t: (await fetch(f"SELECT COUNT(*) AS n FROM {t}"))[0]["n"] for t in tables}


async def test_every_foreign_key_and_filter_column_is_indexed(database):
    if db.dialect() == "postgres":
        fks = await fetch(
            "SELECT c.conrelid::regclass::text AS tbl, a.attname AS col FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] WHERE c.contype = 'f'"
        )
        indexed = {
            (r["tbl"], r["col"])
            for r in await fetch(
                "SELECT i.indrelid::regclass::text AS tbl, a.attname AS col FROM pg_index i "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
            )
        }
        missing = [(r["tbl"], r["col"]) for r in fks if (r["tbl"], r["col"]) not in indexed]
    else:
        missing = []
        tables = [r["name"] for r in await fetch(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%fts%'")]
        for table in tables:
            leading = set()
            for index in await fetch(f"PRAGMA index_list('{table}')"):
                cols = await fetch(f"PRAGMA index_info('{index['name']}')")
                if cols:
                    leading.add(cols[0]["name"])
            for fk in await fetch(f"PRAGMA foreign_key_list('{table}')"):
                if fk["from"] not in leading:
                    missing.append((table, fk["from"]))
    assert not missing, f"foreign keys without an index: {missing}"
    assert len(await fetch("SELECT 1 AS x FROM cooperation WHERE status = 'ACTIVE' LIMIT 1")) == 1


def test_exported_sdl_is_in_sync():
    from schema.build import default_schema

    exported = (ROOT / "schema" / "schema.graphql").read_text(encoding="utf-8")
    assert exported.strip() == print_schema(default_schema).strip(), "run `make schema` and commit schema/schema.graphql"


def test_the_domain_never_imports_the_graphql_layer():
    offenders = []
    for path in (ROOT / "service").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "schema" or n.startswith(("schema.", "strawberry")) for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders


_MIGRATIONS_CHECK = """
import asyncio, sys
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector
from service import db

async def main(path):
    config = db.tortoise_config(f"sqlite://{path}")
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    print("\\n".join(w.name for w in writers))

asyncio.run(main(sys.argv[1]))
"""


def test_migrations_match_the_models(tmp_path):
    """Nothing left for `tortoise makemigrations` to write: the checked-in migrations describe the models.

    Run in a child process: initialising Tortoise for SQLite rebinds the model classes' query builders,
    which are process-global, and a PostgreSQL run would then build later queries for SQLite.
    """
    result = subprocess.run([sys.executable, "-c", _MIGRATIONS_CHECK, str(tmp_path / "check.sqlite3")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert not result.stdout.strip(), result.stdout

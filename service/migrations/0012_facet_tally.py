"""Facet counts kept as they are written: the unfiltered start page stops counting 100,000 rows.

facet_tally holds signed deltas per (dimension, bucket): s status, l legal form ('' for none),
d start decade ('' for no start year), t topic field, p active partner, r region (a row of
cooperation_region). Triggers append a +1/-1 row in the writing transaction, so a count is the
sum of its bucket's rows and is never stale. Writers only ever append: two approvals never wait on
one shared counter row and cannot deadlock over it. service/catalogue/tallies.py folds the rows into
one per bucket now and then (housekeeping), which keeps the sums short. A table of its own, like
cooperation_region in 0011: the ORM never writes it.
"""

from tortoise import migrations

from service.migration_sql import run_sql

# Bucket expressions per dimension, on a row alias (NEW or OLD).
_COOPERATION_BUCKETS = {
    "s": "{r}.status",
    "l": "COALESCE({r}.legal_form_id, '')",
    "d": "COALESCE(CAST(({r}.start_year / 10) * 10 AS TEXT), '')",
}


def _values(row: str, n: int, buckets: dict[str, str]) -> str:
    return ", ".join(f"('{dim}', {expr.format(r=row)}, {n})" for dim, expr in buckets.items())


def _insert(row: str, n: int, buckets: dict[str, str]) -> str:
    return f"INSERT INTO facet_tally (dim, bucket, n) VALUES {_values(row, n, buckets)}"


_TOPIC = {"t": "CAST({r}.topic_field_id AS TEXT)"}
_PARTNER = {"p": "CAST({r}.organization_id AS TEXT)"}
_REGION = {"r": "CAST({r}.region_id AS TEXT)"}

_BACKFILL = [
    "INSERT INTO facet_tally (dim, bucket, n) SELECT 's', status, COUNT(*) FROM cooperation GROUP BY status",
    "INSERT INTO facet_tally (dim, bucket, n) SELECT 'l', COALESCE(legal_form_id, ''), COUNT(*) FROM cooperation "
    "GROUP BY COALESCE(legal_form_id, '')",
    "INSERT INTO facet_tally (dim, bucket, n) SELECT 'd', COALESCE(CAST((start_year / 10) * 10 AS TEXT), ''), COUNT(*) "
    "FROM cooperation GROUP BY COALESCE(CAST((start_year / 10) * 10 AS TEXT), '')",
    "INSERT INTO facet_tally (dim, bucket, n) SELECT 't', CAST(topic_field_id AS TEXT), COUNT(*) "
    "FROM cooperation_topic_field GROUP BY topic_field_id",
    "INSERT INTO facet_tally (dim, bucket, n) SELECT 'p', CAST(organization_id AS TEXT), COUNT(*) "
    "FROM cooperation_partner WHERE left_year IS NULL GROUP BY organization_id",
    "INSERT INTO facet_tally (dim, bucket, n) SELECT 'r', CAST(region_id AS TEXT), COUNT(*) "
    "FROM cooperation_region GROUP BY region_id",
]
# Covering: a bucket's sum reads the index only.
_INDEX = "CREATE INDEX facet_tally_bucket ON facet_tally (dim, bucket, n)"

COOPERATION_COLUMNS = "status, legal_form_id, start_year"
_CHANGED = ("OLD.status IS NOT NEW.status OR OLD.legal_form_id IS NOT NEW.legal_form_id "
            "OR OLD.start_year IS NOT NEW.start_year")


def _sqlite_trigger(name: str, event: str, when: str, *statements: str) -> str:
    body = " ".join(s + ";" for s in statements)
    return f"CREATE TRIGGER {name} AFTER {event} WHEN {when} BEGIN {body} END"


SQLITE_TRIGGERS = {
    "facet_tally_cooperation_insert": ("INSERT ON cooperation", "1", _insert("NEW", 1, _COOPERATION_BUCKETS)),
    "facet_tally_cooperation_delete": ("DELETE ON cooperation", "1", _insert("OLD", -1, _COOPERATION_BUCKETS)),
    "facet_tally_cooperation_update": (f"UPDATE OF {COOPERATION_COLUMNS} ON cooperation", _CHANGED,
                                       _insert("OLD", -1, _COOPERATION_BUCKETS), _insert("NEW", 1, _COOPERATION_BUCKETS)),
    "facet_tally_topic_insert": ("INSERT ON cooperation_topic_field", "1", _insert("NEW", 1, _TOPIC)),
    "facet_tally_topic_delete": ("DELETE ON cooperation_topic_field", "1", _insert("OLD", -1, _TOPIC)),
    "facet_tally_topic_update": ("UPDATE OF topic_field_id ON cooperation_topic_field", "1",
                                 _insert("OLD", -1, _TOPIC), _insert("NEW", 1, _TOPIC)),
    "facet_tally_partner_insert": ("INSERT ON cooperation_partner", "NEW.left_year IS NULL", _insert("NEW", 1, _PARTNER)),
    "facet_tally_partner_delete": ("DELETE ON cooperation_partner", "OLD.left_year IS NULL", _insert("OLD", -1, _PARTNER)),
    "facet_tally_partner_update_old": ("UPDATE OF organization_id, left_year ON cooperation_partner",
                                       "OLD.left_year IS NULL", _insert("OLD", -1, _PARTNER)),
    "facet_tally_partner_update_new": ("UPDATE OF organization_id, left_year ON cooperation_partner",
                                       "NEW.left_year IS NULL", _insert("NEW", 1, _PARTNER)),
    "facet_tally_region_insert": ("INSERT ON cooperation_region", "1", _insert("NEW", 1, _REGION)),
    "facet_tally_region_delete": ("DELETE ON cooperation_region", "1", _insert("OLD", -1, _REGION)),
}

SQLITE_UP = [
    "CREATE TABLE facet_tally (id INTEGER PRIMARY KEY, dim TEXT NOT NULL, bucket TEXT NOT NULL, n INTEGER NOT NULL)",
    _INDEX,
    *_BACKFILL,
    *(_sqlite_trigger(name, *spec) for name, spec in SQLITE_TRIGGERS.items()),
]
SQLITE_DOWN = [*(f"DROP TRIGGER {name}" for name in reversed(SQLITE_TRIGGERS)), "DROP TABLE facet_tally"]


def _pg_function(name: str, body: str) -> str:
    return f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$"


def _pg_old_new(old_if: str, new_if: str, buckets: dict[str, str]) -> str:
    return (f"IF {old_if} THEN {_insert('OLD', -1, buckets)}; END IF; "
            f"IF {new_if} THEN {_insert('NEW', 1, buckets)}; END IF;")


_PG_CHANGED = _CHANGED.replace(" IS NOT ", " IS DISTINCT FROM ")
# (function and trigger name, table, events, body)
POSTGRES_TRIGGERS = [
    ("facet_tally_cooperation", "cooperation", f"INSERT OR DELETE OR UPDATE OF {COOPERATION_COLUMNS}",
     f"IF TG_OP = 'UPDATE' AND NOT ({_PG_CHANGED}) THEN RETURN NULL; END IF; "
     + _pg_old_new("TG_OP IN ('DELETE', 'UPDATE')", "TG_OP IN ('INSERT', 'UPDATE')", _COOPERATION_BUCKETS)),
    ("facet_tally_topic", "cooperation_topic_field", "INSERT OR DELETE OR UPDATE OF topic_field_id",
     _pg_old_new("TG_OP IN ('DELETE', 'UPDATE')", "TG_OP IN ('INSERT', 'UPDATE')", _TOPIC)),
    ("facet_tally_partner", "cooperation_partner", "INSERT OR DELETE OR UPDATE OF organization_id, left_year",
     _pg_old_new("TG_OP IN ('DELETE', 'UPDATE') AND OLD.left_year IS NULL",
                 "TG_OP IN ('INSERT', 'UPDATE') AND NEW.left_year IS NULL", _PARTNER)),
    ("facet_tally_region", "cooperation_region", "INSERT OR DELETE",
     _pg_old_new("TG_OP = 'DELETE'", "TG_OP = 'INSERT'", _REGION)),
]

POSTGRES_UP = [
    "CREATE TABLE facet_tally (id BIGSERIAL PRIMARY KEY, dim TEXT NOT NULL, bucket TEXT NOT NULL, n INTEGER NOT NULL)",
    _INDEX,
    *_BACKFILL,
    *(statement for name, table, events, body in POSTGRES_TRIGGERS for statement in (
        _pg_function(name, body),
        f"CREATE TRIGGER {name} AFTER {events} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
    )),
    "ANALYZE facet_tally",
]
POSTGRES_DOWN = [
    *(statement for name, table, _, _ in reversed(POSTGRES_TRIGGERS) for statement in (
        f"DROP TRIGGER {name} ON {table}", f"DROP FUNCTION {name}()",
    )),
    "DROP TABLE facet_tally",
]


class Migration(migrations.Migration):
    dependencies = [("ikz", "0011_facet_indexes")]

    operations = [run_sql(SQLITE_UP, POSTGRES_UP, SQLITE_DOWN, POSTGRES_DOWN)]

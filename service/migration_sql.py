"""Running hand-written SQL in a migration, one list of statements per database."""

from tortoise.migrations import operations as ops


def per_dialect(sqlite: list[str], postgres: list[str]):
    """A RunPython callable that runs the statements for the connection's dialect, one by one."""

    async def run(apps, schema_editor):
        dialect = schema_editor.client.capabilities.dialect
        statements = {"sqlite": sqlite, "postgres": postgres}.get(dialect)
        if statements is None:
            raise RuntimeError(f"unsupported database: {dialect}")
        for statement in statements:
            # Not schema_editor._run_sql: on SQLite it splits on ";", which breaks trigger bodies.
            if schema_editor.collect_sql:
                schema_editor.collected_sql.append(statement)
            else:
                await schema_editor.client.execute_query(statement)

    return run


def run_sql(sqlite_up: list[str], postgres_up: list[str], sqlite_down: list[str], postgres_down: list[str]):
    """The migration operation: forwards and backwards, per database."""
    return ops.RunPython(per_dialect(sqlite_up, postgres_up), per_dialect(sqlite_down, postgres_down))

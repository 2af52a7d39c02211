"""Hand-written SQL for the read paths that the ORM cannot express efficiently.

Statements are written once with `?` placeholders and `{ci}` (a byte-order
collation) and rendered per dialect, so SQLite and PostgreSQL run the same query
and sort identically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service import db


@dataclass
class Where:
    """A conjunction of SQL conditions with their parameters, built step by step."""

    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def extend(self, other: Where) -> None:
        self.clauses.extend(other.clauses)
        self.params.extend(other.params)

    def sql(self, prefix: str = "WHERE") -> str:
        return f"{prefix} " + " AND ".join(self.clauses) if self.clauses else ""


def placeholders(count: int) -> str:
    return ", ".join("?" for _ in range(count))


def render(sql: str, dialect: str) -> str:
    """Turn `?` placeholders into `$n` for PostgreSQL and fill in the collation marker."""
    if dialect == "postgres":
        sql = sql.replace("{ci}", ' COLLATE "C"')
        parts = sql.split("?")
        out = [parts[0]]
        for index, part in enumerate(parts[1:], start=1):
            out.append(f"${index}")
            out.append(part)
        return "".join(out)
    return sql.replace("{ci}", "")


async def fetch(sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    conn = db.connection()
    return await conn.execute_query_dict(render(sql, conn.capabilities.dialect), list(params))


async def fetch_one(sql: str, params: list[Any] | tuple[Any, ...] = ()) -> dict[str, Any] | None:
    rows = await fetch(sql, params)
    return rows[0] if rows else None

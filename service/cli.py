"""The `ikz` command: serve, migrate, seed and the administrative tasks.

Each sub-command opens the database, does its work in the service layer and exits
with 0 on success, 1 on a reported failure, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from service import db
from service.config import ConfigError, get_settings

logger = logging.getLogger("ikz.cli")
COMMANDS: dict[str, Callable[[argparse.Namespace], Awaitable[int]]] = {}


def command(name: str):
    def register(func):
        COMMANDS[name] = func
        return func

    return register


async def _with_db(work: Callable[[], Awaitable[int]]) -> int:
    await db.init_db()
    try:
        return await work()
    finally:
        await db.close_db()


@command("migrate")
async def cmd_migrate(args: argparse.Namespace) -> int:
    await db.migrate()
    await db.close_db()
    print("Database is up to date.")
    return 0


@command("seed")
async def cmd_seed(args: argparse.Namespace) -> int:
    from service.catalogue.seed import DEFAULT_SEED_DIR, SeedError, catalogue_is_empty, load_seeds

    async def work() -> int:
        if args.if_empty and not await catalogue_is_empty():
            print("Catalogue already has data; seed skipped.")
            return 0
        try:
            report = await load_seeds(Path(args.dir) if args.dir else DEFAULT_SEED_DIR)
        except SeedError as exc:
            print(f"Seed failed, nothing written: {exc}", file=sys.stderr)
            return 1
        if report.total == 0:
            print("Seed data already present; nothing to do.")
        else:
            print("Seeded: " + ", ".join(f"{n} {kind}" for kind, n in report.inserted.items()))
        return 0

    return await _with_db(work)


@command("serve")
async def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.web.app import create_app

    settings = get_settings()
    config = uvicorn.Config(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_level="info",
        proxy_headers=settings.is_production,
    )
    server = uvicorn.Server(config)
    print(f"Serving http://{args.host}:{args.port}/graphql ({settings.app_env})")
    await server.serve()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ikz", description="IKZ cooperation database")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the GraphQL API (and the mail worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    sub.add_parser("migrate", help="apply pending database migrations")
    seed = sub.add_parser("seed", help="load the seed data (idempotent)")
    seed.add_argument("--if-empty", action="store_true", help="only when the catalogue holds no data yet")
    seed.add_argument("--dir", help="seed directory (default: seeds/ of this checkout)")
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        get_settings()
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(COMMANDS[args.command](args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

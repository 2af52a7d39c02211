"""The `ikz` command: serve, migrate, seed and the administrative tasks.

Each sub-command opens the database, does its work in the service layer and exits
with 0 on success, 1 on a reported failure, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
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
    pending: list[str] = []

    def report(connection: str, plan, fake: bool, dry_run: bool) -> None:
        pending.extend(f"{step.migration.app_label}.{step.migration.name}" for step in plan if not step.backward)
        if pending:
            print(f"Applying {len(pending)} migration(s): {', '.join(pending)}", flush=True)

    await db.migrate(reporter=report)
    await db.close_db()
    print(f"Applied {len(pending)} migration(s); the database is up to date." if pending
          else "Database is up to date; no migration to apply.")
    return 0


@command("seed")
async def cmd_seed(args: argparse.Namespace) -> int:
    from service.catalogue.seed import DEFAULT_SEED_DIR, SeedError, catalogue_is_empty, load_seeds

    async def work() -> int:
        if args.if_empty and not await catalogue_is_empty():
            print("Catalogue already has data; seed skipped.")
            return 0
        try:
            report = await load_seeds(Path(args.dir) if args.dir else DEFAULT_SEED_DIR, demo=args.demo)
        except SeedError as exc:
            print(f"Seed failed, nothing written: {exc}", file=sys.stderr)
            return 1
        if report.total == 0:
            print("Seed data already present; nothing to do.")
        else:
            print("Seeded: " + ", ".join(f"{n} {kind}" for kind, n in report.inserted.items()))
        return 0

    return await _with_db(work)


class RedactSecrets(logging.Filter):
    """Access log lines show paths; the token in an activation or reset link must not end up in logs."""

    PATTERN = re.compile(r"(token=)[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(self.PATTERN.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                                for a in record.args)
        return True


def cmd_serve(args: argparse.Namespace) -> int:
    """Not a coroutine: uvicorn runs its own event loop (and, with --workers, its worker processes)."""
    from ikz.serving import serve

    if args.workers < 1:
        print("--workers must be at least 1.", file=sys.stderr)
        return 2
    return serve(args.host, args.port, args.workers, args.graceful_timeout, args.loop, args.http)


@command("check")
async def cmd_check(args: argparse.Namespace) -> int:
    import os

    from ikz.checks import FAIL, run_checks

    results = await run_checks(get_settings(), secret_from_env=bool(os.environ.get("SECRET_KEY", "").strip()))
    width = max(len(r.name) for r in results)
    for result in results:
        print(f"{result.status:<4}  {result.name:<{width}}  {result.message}")
    failed = [r for r in results if r.status == FAIL]
    if failed:
        print(f"{len(failed)} check(s) failed: not ready to go live.", file=sys.stderr)
        return 1
    print("Configuration looks ready.")
    return 0


@command("worker")
async def cmd_worker(args: argparse.Namespace) -> int:
    import signal

    from service.housekeeping import run_housekeeping
    from service.mail.worker import run_worker

    async def work() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await asyncio.gather(run_worker(stop), run_housekeeping(stop))
        return 0

    return await _with_db(work)


@command("documents")
async def cmd_documents(args: argparse.Namespace) -> int:
    import datetime as dt

    from service.documents.sweep import sweep_documents

    async def work() -> int:
        report = await sweep_documents(grace=dt.timedelta(hours=args.grace_hours),
                                       rejected_kept=dt.timedelta(days=args.rejected_days), dry_run=args.dry_run)
        verb = "would delete" if args.dry_run else "deleted"
        print(f"{len(report.deleted)} unneeded file(s) {verb} ({report.freed_bytes} bytes); {report.kept} kept.")
        for sha256 in report.deleted:
            print(sha256)
        return 0

    return await _with_db(work)


@command("create-user")
async def cmd_create_user(args: argparse.Namespace) -> int:
    from service.accounts.models import Role
    from service.accounts.users import create_user, find_scope
    from service.errors import DomainError

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        import getpass

        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            print("The passwords differ.", file=sys.stderr)
            return 2
    else:
        print("Pass the password on standard input with --password-stdin.", file=sys.stderr)
        return 2

    async def work() -> int:
        try:
            scope = await find_scope(args.scope) if args.scope else None
            account = await create_user(
                username=args.username, email=args.email, first_name=args.first_name, last_name=args.last_name,
                password=password, roles=[(Role(r.upper()), scope) for r in args.role],
            )
        except DomainError as exc:
            print(f"Not created: {exc.message}", file=sys.stderr)
            return 1
        print(f"Created user {account.username} ({', '.join(r.upper() for r in args.role)}).")
        return 0

    return await _with_db(work)


@command("contacts")
async def cmd_contacts(args: argparse.Namespace) -> int:
    from service.accounts.importing import import_contacts

    async def work() -> int:
        report = await import_contacts(Path(args.file))
        for line, message in report.skipped:
            print(f"line {line}: skipped: {message}")
        for line, message in report.errors:
            print(f"line {line}: error: {message}", file=sys.stderr)
        print(f"{report.created} contact(s) imported, {len(report.skipped)} skipped, {len(report.errors)} error(s).")
        if report.created:
            print("Send the invitations with: ikz invite --pending")
        return 1 if report.errors else 0

    return await _with_db(work)


def _progress(done: int, total: int) -> None:
    if not sys.stderr.isatty():
        if done == total:
            print(f"{done}/{total}", file=sys.stderr)
        return
    width = 30
    filled = int(width * done / total) if total else width
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="" if done < total else "\n",
          file=sys.stderr, flush=True)


@command("invite")
async def cmd_invite(args: argparse.Namespace) -> int:
    from service.accounts.onboarding import invite_pending
    from service.catalogue.models import Contact, ContactState
    from service.errors import DomainError
    from service.mail.worker import deliver_due

    if not args.pending:
        print("Say which contacts to invite: --pending (every contact not yet invited).", file=sys.stderr)
        return 2

    async def work() -> int:
        ids = await Contact.filter(state=ContactState.CREATED, demo=False).order_by("id").values_list("id", flat=True)
        if not ids:
            print("No contact is waiting for an invitation.")
            return 0
        invited, failed = 0, 0
        for done, contact_id in enumerate(ids, start=1):
            try:
                if await invite_pending(contact_id):
                    invited += 1
            except DomainError as exc:
                failed += 1
                print(f"\ncontact {contact_id}: {exc.message}", file=sys.stderr)
            _progress(done, len(ids))
        print(f"{invited} invitation(s) queued.")
        if not args.no_deliver:
            sent = 0
            for _ in range(1000):
                result = await deliver_due()
                sent += result.sent
                if result.claimed == 0 or result.sent == 0:
                    break
            print(f"{sent} mail(s) delivered now; the mail worker retries anything left.")
        return 1 if failed else 0

    return await _with_db(work)


@command("export")
async def cmd_export(args: argparse.Namespace) -> int:
    """The result list as a file, through the GraphQL schema as an anonymous visitor sees it."""
    from ikz.app import create_app
    from ikz.exports.columns import row
    from ikz.exports.formats import FORMATS
    from ikz.exports.source import ExportRefused, executor, local_request, row_batches

    flt: dict = {}
    for key, values in (("partnerIds", args.partner), ("regionIds", args.region), ("topicFieldIds", args.topic),
                        ("legalForms", args.legal_form), ("statuses", args.status)):
        if values:
            flt[key] = list(values)
    if args.start_year_from is not None:
        flt["startYearFrom"] = args.start_year_from
    if args.start_year_to is not None:
        flt["startYearTo"] = args.start_year_to
    variables = {"filter": flt or None, "search": args.search or None}
    settings = get_settings()

    async def work() -> int:
        request = local_request(create_app(settings, manage_db=False))
        try:
            encoder = FORMATS[args.format]
            batches = await row_batches(executor(request), variables, settings.max_page_size,
                                        settings.link("cooperations/"), getattr(encoder, "row", row))
        except ExportRefused as exc:
            print(exc.message, file=sys.stderr)
            return 1
        out = open(args.output, "wb") if args.output else sys.stdout.buffer
        try:
            async for chunk in encoder.encode(batches):
                out.write(chunk)
        finally:
            if args.output:
                out.close()
            else:
                out.flush()
        return 0

    return await _with_db(work)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ikz", description="IKZ cooperation database")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="serve the GraphQL API, the pages and the mail worker")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument("--graceful-timeout", type=float, default=30.0,
                       help="on SIGTERM, seconds to let requests in flight finish (default 30)")
    serve.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto",
                       help="event loop (default auto: uvloop when installed)")
    serve.add_argument("--http", choices=["auto", "h11", "httptools"], default="auto",
                       help="HTTP parser (default auto: httptools when installed)")
    sub.add_parser("check", help="validate the configuration before going live (SMTP, URL, secret, database)")
    sub.add_parser("migrate", help="apply pending database migrations (none pending: nothing changes)")
    seed = sub.add_parser("seed", help="load the seed data; idempotent, and corrects values seeded earlier")
    seed.add_argument("--if-empty", action="store_true",
                      help="only when the catalogue holds no data yet (default: always)")
    seed.add_argument("--demo", action="store_true",
                      help="also load the invented demo contacts (@example.org; never invited) (default: not)")
    seed.add_argument("--dir", help="seed directory (default: the seed files shipped with the package)")
    sub.add_parser("worker", help="run the mail delivery worker alone")
    documents = sub.add_parser("documents", help="document files")
    documents_sub = documents.add_subparsers(dest="action", required=True, metavar="ACTION")
    sweep = documents_sub.add_parser("sweep", help="delete stored files that no published, proposed, withdrawn or "
                                                   "recently rejected document needs (also done hourly by the "
                                                   "housekeeping loop)")
    sweep.add_argument("--dry-run", action="store_true", help="only list what would be deleted (default: delete)")
    sweep.add_argument("--grace-hours", type=float, default=1.0,
                       help="leave files younger than this, e.g. of an upload in progress (default 1)")
    sweep.add_argument("--rejected-days", type=float, default=30.0,
                       help="keep the file of a rejected proposal this long after its upload (default 30)")
    user = sub.add_parser("create-user", help="create a ministry account (admin, approver)")
    user.add_argument("--role", action="append", required=True, choices=["admin", "approver", "ADMIN", "APPROVER"],
                      help="required; may be given more than once")
    user.add_argument("--scope", help="approver scope: id, AGS or key of a state or district (default: all)")
    user.add_argument("--username", required=True, help="required: the sign-in name")
    user.add_argument("--email", required=True, help="required: the account's mail address")
    user.add_argument("--first-name", required=True, help="required")
    user.add_argument("--last-name", required=True, help="required")
    user.add_argument("--password-stdin", action="store_true",
                      help="read the password from standard input (default: ask for it when run in a terminal; "
                           "required otherwise)")
    contacts = sub.add_parser("contacts", help="contact persons")
    contacts_sub = contacts.add_subparsers(dest="action", required=True, metavar="ACTION")
    importer = contacts_sub.add_parser("import", help="import contact persons from a CSV file (see README)")
    importer.add_argument("file", help="the CSV file (UTF-8, header row, ',' or ';')")
    invite = sub.add_parser("invite", help="mail invitations")
    invite.add_argument("--pending", action="store_true",
                        help="required: every contact person not yet invited (demo contacts never)")
    invite.add_argument("--no-deliver", action="store_true",
                        help="only queue; leave delivery to the worker (default: deliver now)")
    export = sub.add_parser("export", help="write the cooperations (the public result list) as CSV "
                                           "(UTF-8 with BOM, ';', German columns), XLSX or GeoJSON")
    export.add_argument("--format", choices=["csv", "xlsx", "geojson"], default="csv",
                        help="file format; geojson: partners' seats as MultiPoint (default: csv)")
    export.add_argument("--output", help="file to write (default: standard output)")
    export.add_argument("--search", help="search words, as in the API's search (default: none)")
    for name, what in (("--partner", "partner organisation id"), ("--region", "district or state id"),
                       ("--topic", "topic field id")):
        export.add_argument(name, action="append", help=f"{what}; may be repeated (default: any)")
    export.add_argument("--legal-form", action="append", help="legal form code, e.g. OERV; may be repeated (default: any)")
    export.add_argument("--status", action="append", choices=["PLANNED", "ACTIVE", "ENDED", "NOT_REALIZED"],
                        help="may be repeated (default: any)")
    export.add_argument("--from", dest="start_year_from", type=int, help="start year at least (default: any)")
    export.add_argument("--to", dest="start_year_to", type=int, help="start year at most (default: any)")
    return parser


def main(argv: list[str] | None = None) -> int:
    import logging.config

    from ikz.observability import logging_config

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        if args.command == "check":
            print("FAIL  configuration", file=sys.stderr)
        return 2
    logging.config.dictConfig(logging_config(settings.log_format))
    logging.getLogger("uvicorn.access").addFilter(RedactSecrets())
    try:
        if args.command == "serve":
            return cmd_serve(args)
        return asyncio.run(COMMANDS[args.command](args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

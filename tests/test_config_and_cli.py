"""Configuration rules, production hardening, and the `ikz` command as an operator runs it."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import strawberry

from service.config import ConfigError, load_settings
from service.sql import fetch
from tests.conftest import BASE_URL, text_part

ROOT = Path(__file__).resolve().parents[1]


def test_production_refuses_to_start_without_a_secret(tmp_path):
    env = {"APP_ENV": "production", "PUBLIC_BASE_URL": "https://ikz.example.org", "VAR_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(env)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({**env, "SECRET_KEY": "too-short"})
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        load_settings({"APP_ENV": "production", "SECRET_KEY": "x" * 40, "VAR_DIR": str(tmp_path)})
    assert load_settings({**env, "SECRET_KEY": "x" * 40}).is_production
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_settings({"APP_ENV": "staging"})


def test_development_generates_its_secret_once(tmp_path):
    first = load_settings({"VAR_DIR": str(tmp_path)})
    second = load_settings({"VAR_DIR": str(tmp_path)})
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 40
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert first.database_url.startswith("sqlite://") and "ikz.sqlite3" in first.database_url


def test_production_masks_unexpected_errors_and_logs_them_once(caplog):
    from schema.build import IkzSchema, security_extensions
    from schema.errors import with_codes
    from service.errors import NotFound

    @strawberry.type
    class Query:
        @strawberry.field
        def broken(self) -> int:
            raise RuntimeError("connection string postgres://secret@db/internal")

        @strawberry.field
        def missing(self) -> int:
            raise NotFound("No cooperation with id 5.")

    production = load_settings({"APP_ENV": "production", "SECRET_KEY": "x" * 40, "PUBLIC_BASE_URL": BASE_URL})
    schema = IkzSchema(query=Query, extensions=security_extensions(production))
    caplog.set_level(logging.INFO)
    result = schema.execute_sync("{ broken }")
    errors = with_codes(result.errors)
    assert "secret" not in errors[0].message and errors[0].extensions["code"] == "INTERNAL_SERVER_ERROR"
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1
    caplog.clear()
    result = schema.execute_sync("{ missing }")
    errors = with_codes(result.errors)
    assert errors[0].message == "No cooperation with id 5." and errors[0].extensions["code"] == "NOT_FOUND"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_production_app_hides_graphiql_and_sets_secure_cookies(settings, make_user):
    import httpx

    from ikz.app import create_app

    production = settings.with_overrides(app_env="production")
    app = create_app(production, manage_db=False)
    username, password = await make_user("ADMIN")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        ide = await http.get("/graphql", headers={"accept": "text/html"})
        assert ide.status_code == 404
        login = await http.post("/graphql", json={"query": "mutation($u:String!,$p:String!){ login(username:$u,"
                                                           "password:$p){ token } }",
                                                  "variables": {"u": username, "p": password}})
        assert "Secure" in login.headers["set-cookie"] and "sqlQueries" not in login.text
        mutation_over_get = await http.get("/graphql", params={"query": "mutation { logout }"})
        assert mutation_over_get.status_code == 405


def run_ikz(settings, smtp_port: int | None, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "DATABASE_URL"))}
    env.update({
        "DATABASE_URL": settings.database_url, "SECRET_KEY": settings.secret_key, "VAR_DIR": str(settings.var_dir),
        "PUBLIC_BASE_URL": settings.public_base_url, "APP_ENV": "development",
    })
    if smtp_port:
        env.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port), "SMTP_STARTTLS": "false"})
    return subprocess.run([sys.executable, "-m", "ikz.cli", *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


async def test_contacts_import_reports_bad_rows_and_keeps_good_ones(settings, tmp_path):
    csv_file = tmp_path / "contacts.csv"
    csv_file.write_text(
        "municipality;first_name;last_name;email;salutation;function;phone;cooperations\n"
        "05978028;Hanna;Importeur;hanna.importeur@example.org;Frau;Ordnungsamt;+49 000 1;unna-kommunen-41\n"
        "selm;Ole;Einfuhr;ole.einfuhr@example.org;Herr;;;\n"
        "Atlantis;Nemo;Niemand;nemo@example.org;;;;\n"
        "unna;Ida;Ohnemail;;;;;\n"
        "05978028;Hanna;Importeur;hanna.importeur@example.org;Frau;Ordnungsamt;;\n",
        encoding="utf-8",
    )
    result = run_ikz(settings, None, "contacts", "import", str(csv_file))
    assert result.returncode == 1, result.stderr
    assert "line 4: error: unknown municipality 'Atlantis'" in result.stderr
    assert "line 5: error:" in result.stderr and "email" in result.stderr.split("line 5: error:")[1].splitlines()[0]
    assert "line 6: skipped" in result.stdout and "2 contact(s) imported" in result.stdout
    rows = await fetch("SELECT last_name, state FROM contact WHERE last_name IN ('Importeur', 'Einfuhr')")
    assert sorted((r["last_name"], r["state"]) for r in rows) == [("Einfuhr", "CREATED"), ("Importeur", "CREATED")]
    again = run_ikz(settings, None, "contacts", "import", str(csv_file))
    assert "0 contact(s) imported" in again.stdout


async def test_invite_pending_mails_everyone_once(settings, smtp, tmp_path):
    from service.mail.models import MailStatus, OutboxMail

    await OutboxMail.filter(status__in=[MailStatus.PENDING, MailStatus.SENDING]).update(status=MailStatus.FAILED)
    csv_file = tmp_path / "one.csv"
    csv_file.write_text("municipality;first_name;last_name;email\nselm;Ina;Eingeladen;ina.eingeladen@example.org\n",
                        encoding="utf-8")
    assert run_ikz(settings, None, "contacts", "import", str(csv_file)).returncode == 0
    demo = (await fetch("SELECT COUNT(*) AS n FROM contact WHERE state = 'CREATED' AND demo"))[0]["n"]
    assert demo == 11  # the invented demo contacts (ikz seed --demo): never mailed
    waiting = (await fetch("SELECT COUNT(*) AS n FROM contact WHERE state = 'CREATED' AND NOT demo"))[0]["n"]
    assert waiting > 0
    first = run_ikz(settings, smtp.port, "invite", "--pending")
    assert first.returncode == 0, first.stderr
    assert f"{waiting} invitation(s) queued" in first.stdout and f"{waiting}/{waiting}" in first.stderr
    assert len(smtp.sink.messages) == waiting
    assert all("/activate?token=" in text_part(m) for m in smtp.sink.messages)
    second = run_ikz(settings, smtp.port, "invite", "--pending")
    assert "No contact is waiting" in second.stdout and len(smtp.sink.messages) == waiting
    assert (await fetch("SELECT COUNT(*) AS n FROM contact WHERE state = 'CREATED' AND demo"))[0]["n"] == demo
    demo_emails = {r["email"] for r in await fetch("SELECT email FROM contact WHERE demo")}
    assert demo_emails and not demo_emails & {m["To"] for m in smtp.sink.messages}


def test_migrate_on_an_empty_database_says_what_it_applies(tmp_path):
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, f"sqlite://{tmp_path / 'empty.sqlite3'}")
    first = run_ikz(settings, None, "migrate")
    assert first.returncode == 0, first.stderr
    assert "Applying" in first.stdout and "up to date" not in first.stdout.splitlines()[0]
    assert "0005_partner_left_year" in first.stdout
    again = run_ikz(settings, None, "migrate")
    assert again.stdout.strip() == "Database is up to date; no migration to apply."


def test_every_subcommand_and_option_has_help_with_its_default():
    import argparse

    from ikz.cli import build_parser

    def walk(parser: argparse.ArgumentParser):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    assert choice.help, choice.dest
                for sub in action.choices.values():
                    yield from walk(sub)
            elif not isinstance(action, argparse._HelpAction):
                yield action

    for action in walk(build_parser()):
        assert action.help, action.dest
        if action.option_strings and not action.required:
            assert "default" in action.help or "required" in action.help, action.dest


def test_create_user_without_a_terminal_requires_password_stdin(settings):
    result = run_ikz(settings, None, "create-user", "--role", "admin", "--username", "nopass", "--email",
                     "nopass@example.org", "--first-name", "No", "--last-name", "Pass", stdin="")
    assert result.returncode == 2 and "--password-stdin" in result.stderr


async def test_create_user_from_the_shell(settings):
    weak = run_ikz(settings, None, "create-user", "--role", "admin", "--username", "shelladmin", "--email",
                   "shell@example.org", "--first-name", "Sh", "--last-name", "Ell", "--password-stdin", stdin="kurz\n")
    assert weak.returncode == 1 and "at least 10 characters" in weak.stderr
    ok = run_ikz(settings, None, "create-user", "--role", "admin", "--role", "approver", "--scope", "05978",
                 "--username", "shelladmin", "--email", "shell@example.org", "--first-name", "Sh", "--last-name", "Ell",
                 "--password-stdin", stdin="Ein-langes-Passwort-1\n")
    assert ok.returncode == 0, ok.stderr
    roles = await fetch("SELECT r.role, o.name FROM account_role r JOIN account a ON a.id = r.account_id "
                        "LEFT JOIN organization o ON o.id = r.scope_id WHERE a.username = 'shelladmin' ORDER BY r.role")
    assert [(r["role"], r["name"]) for r in roles] == [("ADMIN", None), ("APPROVER", "Kreis Unna")]
    taken = run_ikz(settings, None, "create-user", "--role", "admin", "--username", "shelladmin", "--email",
                    "x@example.org", "--first-name", "A", "--last-name", "B", "--password-stdin",
                    stdin="Ein-langes-Passwort-1\n")
    assert taken.returncode == 1 and "taken" in taken.stderr


def test_cli_refuses_production_without_secret(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY",)}
    env.update({"APP_ENV": "production", "PUBLIC_BASE_URL": BASE_URL, "VAR_DIR": str(tmp_path)})
    result = subprocess.run([sys.executable, "-m", "ikz.cli", "migrate"], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=60)
    assert result.returncode == 2 and "SECRET_KEY must be set" in result.stderr


def test_access_log_never_shows_link_tokens():
    from ikz.cli import RedactSecrets

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("203.0.113.10:1", "GET", "/activate?token=S3cr3t-token_value&x=1", "1.1", 200), None)
    RedactSecrets().filter(record)
    assert "S3cr3t" not in record.getMessage() and "token=[redacted]&x=1" in record.getMessage()


async def test_cors_only_for_configured_origins(settings):
    import httpx

    from ikz.app import create_app

    for origins, allowed in (((), False), (("https://kommunen.example.org",), True)):
        app = create_app(settings.with_overrides(cors_allow_origins=origins), manage_db=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
            response = await http.options("/graphql", headers={
                "origin": "https://kommunen.example.org", "access-control-request-method": "POST",
                "access-control-request-headers": "content-type"})
            assert (response.headers.get("access-control-allow-origin") == "https://kommunen.example.org") is allowed

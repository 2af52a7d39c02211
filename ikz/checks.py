"""`ikz check`: is this configuration fit to go live? Each check prints OK, WARN or FAIL with the reason;
any FAIL makes the command exit 1."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from service.config import Settings

OK, WARN, FAIL = "OK", "WARN", "FAIL"


@dataclass
class Result:
    status: str
    name: str
    message: str


def check_secret(settings: Settings, secret_from_env: bool) -> Result:
    if len(settings.secret_key) < 32:
        return Result(FAIL, "SECRET_KEY", f"has {len(settings.secret_key)} characters; at least 32 are needed")
    if not secret_from_env:
        return Result(WARN if not settings.is_production else FAIL, "SECRET_KEY",
                      f"not set; using the development secret in {settings.var_dir / 'secret_key'}")
    return Result(OK, "SECRET_KEY", f"set ({len(settings.secret_key)} characters)")


def _local_host(host: str) -> bool:
    if host in ("localhost",) or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def check_public_base_url(settings: Settings) -> Result:
    url = settings.public_base_url
    parts = urlsplit(url)
    name = "PUBLIC_BASE_URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Result(FAIL, name, f"{url!r} is not an absolute http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        return Result(FAIL, name, f"{url!r} must not carry a query, fragment or credentials (links are built on it)")
    if settings.is_production:
        if parts.scheme != "https":
            return Result(FAIL, name, f"{url!r} must use https in production (links carry tokens)")
        if _local_host(parts.hostname):
            return Result(FAIL, name, f"{url!r} points at this machine; mails would link nowhere")
    elif _local_host(parts.hostname):
        return Result(WARN, name, f"{url} is a local address (fine for development only)")
    return Result(OK, name, url)


async def check_database(settings: Settings) -> list[Result]:
    from ikz.observability import pending_migrations
    from service import db

    try:
        await db.init_db(settings.database_url)
        await db.connection().execute_query("SELECT 1")
    except Exception as exc:
        return [Result(FAIL, "database", f"unreachable ({type(exc).__name__}: {exc})")]
    try:
        missing = await pending_migrations()
    finally:
        await db.close_db()
    parts = urlsplit(settings.database_url)
    where = f"{parts.scheme} {parts.hostname or ''}{parts.path}".strip()
    if missing:
        return [Result(OK, "database", f"reachable ({where})"),
                Result(FAIL, "migrations", f"not applied: {', '.join(missing)} (run `ikz migrate`)")]
    return [Result(OK, "database", f"reachable ({where})"), Result(OK, "migrations", "all applied")]


async def check_smtp(settings: Settings) -> Result:
    from service.mail.transports import DeliveryError, transport_for

    if not settings.smtp_host:
        status = FAIL if settings.is_production else WARN
        return Result(status, "SMTP", f"SMTP_HOST not set: mails are only written to {settings.mail_dir}/")
    transport = transport_for(settings.with_overrides(smtp_timeout=min(settings.smtp_timeout, 15)))
    try:
        await transport.open()  # connect, TLS as configured, EHLO, AUTH when a username is set
    except DeliveryError as exc:
        return Result(FAIL, "SMTP", f"{settings.smtp_host}:{settings.smtp_port}: {exc}")
    except Exception as exc:
        return Result(FAIL, "SMTP", f"{settings.smtp_host}:{settings.smtp_port}: {type(exc).__name__}: {exc}")
    finally:
        try:
            await transport.close()
        except Exception:
            pass
    login = f", signed in as {settings.smtp_username}" if settings.smtp_username else ""
    return Result(OK, "SMTP", f"{settings.smtp_host}:{settings.smtp_port} answers{login}")


def check_operations(settings: Settings) -> list[Result]:
    results = []
    if settings.is_production and not settings.forwarded_allow_ips:
        results.append(Result(WARN, "FORWARDED_ALLOW_IPS", "not set: behind a reverse proxy every client has the "
                                                           "proxy's address (throttling per address, logs)"))
    if settings.is_production and "*" in settings.forwarded_allow_ips:
        results.append(Result(WARN, "FORWARDED_ALLOW_IPS", "'*' believes X-Forwarded-For from anyone who can "
                                                           "reach the port; name the proxy instead"))
    if settings.is_production and not (settings.metrics_allow_ips or settings.metrics_token):
        results.append(Result(WARN, "metrics", "/metrics is off (set METRICS_ALLOW_IPS or METRICS_TOKEN)"))
    return results


def check_documents(settings: Settings) -> Result:
    from ikz.app import known_documents
    from service.config import ConfigError

    name = "TRUSTED_DOCUMENTS_ONLY"
    try:
        documents = known_documents(settings)
    except ConfigError as exc:
        return Result(FAIL, name, str(exc))
    if settings.trusted_documents_only:
        return Result(OK, name, f"on: only {len(documents)} trusted documents run (the pages' operations"
                                f"{' and TRUSTED_DOCUMENTS_PATHS' if settings.trusted_documents_paths else ''})")
    return Result(OK, name, f"off: any document runs (within the limits); {len(documents)} known by hash")


async def run_checks(settings: Settings, *, secret_from_env: bool) -> list[Result]:
    results = [Result(OK, "APP_ENV", settings.app_env), check_secret(settings, secret_from_env),
               check_public_base_url(settings)]
    results += await check_database(settings)
    results.append(await check_smtp(settings))
    results += check_operations(settings)
    results.append(check_documents(settings))
    return results

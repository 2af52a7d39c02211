"""Settings, read once from the environment.

Every knob of the service is an environment variable (documented in README.md);
this module is the only place that reads them, so tests can build a Settings
object directly instead of patching os.environ.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

ENVIRONMENTS = ("development", "production")


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says which variable to fix."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"expected a boolean (true/false), got {value!r}")


def _float(name: str, value: str | None, default: float) -> float:
    if value is None or value.strip() == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None


def _int(name: str, value: str | None, default: int) -> int:
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None


@dataclass(frozen=True)
class Settings:
    app_env: str = "development"
    var_dir: Path = Path("var")
    database_url: str = ""
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: str = ""
    # Earlier SECRET_KEYs, still accepted to verify tokens and open queued mail (rotation).
    secret_key_fallbacks: tuple[str, ...] = ()
    # Mail
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_timeout: int = 30
    mail_from: str = "Kooperationsdatenbank <noreply@example.org>"
    mail_max_attempts: int = 8
    mail_batch_size: int = 50
    mail_poll_seconds: float = 2.0
    mail_retry_base_seconds: float = 30.0
    # How long a worker owns a mail it claimed; 0: SMTP_TIMEOUT·4 + 60 s. A send is cut off before it ends.
    mail_lease_seconds: float = 0.0
    run_mail_worker: bool = True
    support_contact: str = "Ministerium für Inneres und Sport, Referat Kommunale Zusammenarbeit (kooperation@example.org)"
    # Pages: links in every page's footer (empty: the service's own placeholder pages)
    imprint_url: str = ""
    privacy_url: str = ""
    # Accounts
    activation_ttl_days: int = 14
    reset_ttl_minutes: int = 60
    session_idle_minutes: int = 120
    session_absolute_hours: int = 12
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    # GraphQL
    max_page_size: int = 100
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 4000
    max_query_cost: int = 25_000  # objects a query may return, page sizes multiplied (schema/cost.py)
    request_timeout_seconds: float = 10.0
    max_response_bytes: int = 5_000_000
    cors_allow_origins: tuple[str, ...] = ()
    # Caching (schema/response_cache.py) and persisted queries (schema/persisted.py)
    response_cache_bytes: int = 64 * 1024 * 1024  # anonymous answers kept per process; 0: off
    persisted_queries_bytes: int = 8 * 1024 * 1024  # documents registered by hash (APQ) per process
    trusted_documents_only: bool = False  # run only the pages' operations and TRUSTED_DOCUMENTS_PATHS
    trusted_documents_paths: tuple[str, ...] = ()  # extra .graphql files/folders or {sha256: document} JSON

    # Documents: the largest file accepted (bytes); checked while the upload is read
    document_max_bytes: int = 20 * 1024 * 1024
    # Operations
    forwarded_allow_ips: tuple[str, ...] = ()  # proxies whose X-Forwarded-For/-Proto are believed
    log_format: str = "text"  # or "json"
    metrics_allow_ips: tuple[str, ...] = ()  # addresses/networks that may read /metrics in production
    metrics_token: str = ""  # or `Authorization: Bearer <token>`

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def mail_lease(self) -> float:
        return self.mail_lease_seconds or self.smtp_timeout * 4 + 60

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"

    def with_overrides(self, **changes) -> Settings:
        return replace(self, **changes)

    def link(self, path: str, **query: str) -> str:
        """An absolute link for mails and pages, always from PUBLIC_BASE_URL."""
        from urllib.parse import urlencode

        base = self.public_base_url.rstrip("/")
        url = f"{base}/{path.lstrip('/')}"
        return f"{url}?{urlencode(query)}" if query else url


def _default_sqlite_url(var_dir: Path) -> str:
    # 64 MiB page cache (the default is 2 MiB): keeps a large catalogue's indexes in memory.
    return f"sqlite://{(var_dir / 'ikz.sqlite3').resolve()}?cache_size=-65536"


def database_url_from_env(env: dict[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get("DATABASE_URL", "").strip() or _default_sqlite_url(Path(env.get("VAR_DIR", "var")))


def _development_secret(var_dir: Path) -> str:
    """A secret generated once per checkout, so sessions survive restarts in development."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build Settings from the environment; production refuses to start without SECRET_KEY."""
    env = dict(os.environ if env is None else env)
    app_env = env.get("APP_ENV", "development").strip() or "development"
    if app_env not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, got {app_env!r}")
    var_dir = Path(env.get("VAR_DIR", "var"))
    secret_key = env.get("SECRET_KEY", "").strip()
    if app_env == "production":
        if len(secret_key) < 32:
            raise ConfigError("SECRET_KEY must be set (at least 32 characters) when APP_ENV=production")
    elif not secret_key:
        secret_key = _development_secret(var_dir)
    fallbacks = tuple(k for k in env.get("SECRET_KEY_FALLBACKS", "").replace(",", " ").split() if k != secret_key)
    if app_env == "production" and any(len(k) < 32 for k in fallbacks):
        raise ConfigError("every key in SECRET_KEY_FALLBACKS must have at least 32 characters")
    public_base_url = env.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").strip()
    if not public_base_url.startswith(("http://", "https://")):
        raise ConfigError(f"PUBLIC_BASE_URL must start with http:// or https://, got {public_base_url!r}")
    if app_env == "production" and not env.get("PUBLIC_BASE_URL"):
        raise ConfigError("PUBLIC_BASE_URL must be set when APP_ENV=production")
    try:
        return Settings(
            app_env=app_env,
            var_dir=var_dir,
            database_url=database_url_from_env(env),
            public_base_url=public_base_url,
            secret_key=secret_key,
            secret_key_fallbacks=fallbacks,
            smtp_host=env.get("SMTP_HOST", "").strip(),
            smtp_port=_int("SMTP_PORT", env.get("SMTP_PORT"), 587),
            smtp_username=env.get("SMTP_USERNAME", ""),
            smtp_password=env.get("SMTP_PASSWORD", ""),
            smtp_starttls=_bool(env.get("SMTP_STARTTLS"), True),
            smtp_timeout=_int("SMTP_TIMEOUT", env.get("SMTP_TIMEOUT"), 30),
            mail_from=env.get("MAIL_FROM", Settings.mail_from),
            mail_max_attempts=_int("MAIL_MAX_ATTEMPTS", env.get("MAIL_MAX_ATTEMPTS"), 8),
            mail_batch_size=_int("MAIL_BATCH_SIZE", env.get("MAIL_BATCH_SIZE"), Settings.mail_batch_size),
            mail_poll_seconds=_float("MAIL_POLL_SECONDS", env.get("MAIL_POLL_SECONDS"), Settings.mail_poll_seconds),
            mail_retry_base_seconds=_float("MAIL_RETRY_BASE_SECONDS", env.get("MAIL_RETRY_BASE_SECONDS"),
                                           Settings.mail_retry_base_seconds),
            mail_lease_seconds=_float("MAIL_LEASE_SECONDS", env.get("MAIL_LEASE_SECONDS"), 0.0),
            run_mail_worker=_bool(env.get("RUN_MAIL_WORKER"), True),
            support_contact=env.get("SUPPORT_CONTACT", Settings.support_contact),
            imprint_url=env.get("IMPRINT_URL", "").strip(),
            privacy_url=env.get("PRIVACY_URL", "").strip(),
            activation_ttl_days=_int("ACTIVATION_TTL_DAYS", env.get("ACTIVATION_TTL_DAYS"), 14),
            session_idle_minutes=_int("SESSION_IDLE_MINUTES", env.get("SESSION_IDLE_MINUTES"), 120),
            session_absolute_hours=_int("SESSION_ABSOLUTE_HOURS", env.get("SESSION_ABSOLUTE_HOURS"), 12),
            max_query_cost=_int("MAX_QUERY_COST", env.get("MAX_QUERY_COST"), Settings.max_query_cost),
            request_timeout_seconds=_int("REQUEST_TIMEOUT_SECONDS", env.get("REQUEST_TIMEOUT_SECONDS"),
                                         int(Settings.request_timeout_seconds)),
            max_response_bytes=_int("MAX_RESPONSE_BYTES", env.get("MAX_RESPONSE_BYTES"), Settings.max_response_bytes),
            document_max_bytes=_int("DOCUMENT_MAX_BYTES", env.get("DOCUMENT_MAX_BYTES"), Settings.document_max_bytes),
            cors_allow_origins=tuple(o.strip() for o in env.get("CORS_ALLOW_ORIGINS", "").split(",") if o.strip()),
            **_caching(env),
            **_operations(env),
        )
    except ConfigError as exc:
        raise ConfigError(str(exc)) from None


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def _caching(env: dict[str, str]) -> dict:
    values = {
        "response_cache_bytes": _int("RESPONSE_CACHE_BYTES", env.get("RESPONSE_CACHE_BYTES"),
                                     Settings.response_cache_bytes),
        "persisted_queries_bytes": _int("PERSISTED_QUERIES_BYTES", env.get("PERSISTED_QUERIES_BYTES"),
                                        Settings.persisted_queries_bytes),
        "trusted_documents_paths": _list(env.get("TRUSTED_DOCUMENTS_PATHS")),
    }
    for name in ("response_cache_bytes", "persisted_queries_bytes"):
        if values[name] < 0:
            raise ConfigError(f"{name.upper()} must be 0 or more, got {values[name]}")
    try:
        values["trusted_documents_only"] = _bool(env.get("TRUSTED_DOCUMENTS_ONLY"), False)
    except ConfigError as exc:
        raise ConfigError(f"TRUSTED_DOCUMENTS_ONLY: {exc}") from None
    return values


def _operations(env: dict[str, str]) -> dict:
    import ipaddress

    log_format = env.get("LOG_FORMAT", "text").strip().lower() or "text"
    if log_format not in ("text", "json"):
        raise ConfigError(f"LOG_FORMAT must be text or json, got {log_format!r}")
    values = {"forwarded_allow_ips": _list(env.get("FORWARDED_ALLOW_IPS")),
              "metrics_allow_ips": _list(env.get("METRICS_ALLOW_IPS"))}
    for name, entries in (("FORWARDED_ALLOW_IPS", values["forwarded_allow_ips"]),
                          ("METRICS_ALLOW_IPS", values["metrics_allow_ips"])):
        for entry in entries:
            if entry == "*" and name == "FORWARDED_ALLOW_IPS":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ConfigError(f"{name}: {entry!r} is not an IP address or network") from None
    token = env.get("METRICS_TOKEN", "").strip()
    if token and len(token) < 16:
        raise ConfigError("METRICS_TOKEN must have at least 16 characters")
    return {**values, "log_format": log_format, "metrics_token": token}


_settings: Settings | None = None


def get_settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def set_settings(settings: Settings) -> None:
    """Install settings for this process (the CLI and the tests call this)."""
    global _settings
    _settings = settings

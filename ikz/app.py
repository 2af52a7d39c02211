"""The ASGI application factory."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from service import db
from service.config import Settings, get_settings
from service.housekeeping import run_housekeeping
from service.mail.worker import run_worker
from ikz import observability, pages
from ikz.web import routes as web_routes

logger = logging.getLogger("ikz.web")


async def health(request: Request) -> JSONResponse:
    await db.connection().execute_query("SELECT 1")
    return JSONResponse({"status": "ok"})


def known_documents(settings: Settings) -> dict[str, str]:
    """sha256 -> document: the pages' operations and TRUSTED_DOCUMENTS_PATHS (schema/persisted.py)."""
    from pathlib import Path

    from schema.persisted import load_trusted
    from service.config import ConfigError
    from ikz.web.base import OPERATIONS

    try:
        return load_trusted([OPERATIONS, *(Path(p) for p in settings.trusted_documents_paths)])
    except ValueError as exc:
        raise ConfigError(f"TRUSTED_DOCUMENTS_PATHS: {exc}") from None


def create_app(settings: Settings | None = None, *, manage_db: bool = True) -> Starlette:
    """Build the app. With manage_db=False the caller owns the database connections (tests)."""
    from schema import build_schema
    from schema.http import GraphQLView

    settings = settings or get_settings()
    if not settings.is_production:
        db.install_query_counting()
    view = observability.observed_view(GraphQLView)(build_schema(settings), settings,
                                                    known_documents=known_documents(settings))
    web_routes.install_offline_graphiql(view)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        if manage_db:
            await db.init_db(settings.database_url)
        stop = asyncio.Event()
        workers = []
        if settings.run_mail_worker and manage_db:
            workers = [asyncio.create_task(run_worker(stop, settings), name="mail-worker"),
                       asyncio.create_task(run_housekeeping(stop), name="housekeeping")]
        try:
            yield
        finally:
            stop.set()
            for worker in workers:
                await worker
            if manage_db:
                await db.close_db()

    routes = [
        *web_routes.ROUTES,
        Route("/graphql", view, methods=["GET", "POST"]),
        Route("/activate", pages.activate, methods=["GET", "POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/healthz", observability.healthz, methods=["GET"]),
        Route("/readyz", observability.readyz, methods=["GET"]),
        Route("/metrics", observability.metrics, methods=["GET"]),
    ]
    middleware = []
    if settings.forwarded_allow_ips:
        # The client address (login throttling, logs, /metrics access) and scheme from X-Forwarded-For /
        # X-Forwarded-Proto, believed only from these proxies; from anyone else the headers are ignored.
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        middleware.append(Middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.forwarded_allow_ips)))
    middleware.append(Middleware(observability.RequestContextMiddleware))
    if settings.cors_allow_origins:
        # Browsers on these origins may call the API. No cookies cross-origin: a client there
        # signs in and sends the token as `Authorization: Bearer`.
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(settings.cors_allow_origins),
                                     allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"],
                                     allow_credentials=False, max_age=3600))
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware,
                    exception_handlers=web_routes.EXCEPTION_HANDLERS)
    app.state.settings = settings
    app.state.graphql_view = view  # the pages execute their operations through it (ikz/web/base.py)
    return app

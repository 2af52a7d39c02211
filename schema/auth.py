"""Sessions over HTTP: `Authorization: Bearer <token>` or the HttpOnly session cookie."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info

from service.accounts import sessions
from service.accounts.sessions import COOKIE_NAME
from service.accounts.models import Role
from service.accounts.principal import Principal, require
from service.config import Settings



def session_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(COOKIE_NAME)


async def attach_principal(context) -> None:
    """Context hook: resolve the session once per request."""
    context.principal = await sessions.resolve(session_token(context.request))


def set_session_cookie(response: Response, token: str, expires_at: dt.datetime, settings: Settings) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=max(0, int((expires_at - dt.datetime.now(dt.timezone.utc)).total_seconds())),
        httponly=True,
        samesite="lax",
        secure=settings.is_production,
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=settings.is_production)


def client_address(request: Request) -> str | None:
    """The client's address for throttling and logs: the connection's peer as the server saw it.

    Behind a reverse proxy the server rewrites the peer from the forwarded headers of trusted
    proxies only (FORWARDED_ALLOW_IPS), so a client cannot choose its own address here.
    """
    return request.client.host if request.client else None


def principal(info: Info, *roles: Role, allow_pending_actions: bool = False) -> Principal:
    return require(info.context.principal, *roles, allow_pending_actions=allow_pending_actions)

"""Files the pages need: the stylesheet, and GraphiQL's assets in development.

GraphiQL comes from the PyPI package `graphene-django-graphiql-static`, which ships GraphiQL,
React and ReactDOM as plain files (it needs no Django to be read): installed with the service by
`pip`, served from here, so /graphql works without internet. Only the listed files are served.
"""

from __future__ import annotations

import functools
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ikz.web.base import STATIC, app_settings, not_found, render, run

OWN_FILES = {"site.css": "text/css; charset=utf-8", "graphiql-start.js": "text/javascript; charset=utf-8"}
GRAPHIQL_PACKAGE = "graphene_django_graphiql_static"
GRAPHIQL_FILES = {
    "graphiql.min.css": "text/css; charset=utf-8",
    "graphiql.min.js": "text/javascript; charset=utf-8",
    "react.production.min.js": "text/javascript; charset=utf-8",
    "react-dom.production.min.js": "text/javascript; charset=utf-8",
}
LONG_CACHE = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}


@functools.lru_cache(maxsize=None)
def _own(name: str) -> bytes:
    return (STATIC / name).read_bytes()


@functools.lru_cache(maxsize=None)
def _graphiql(name: str) -> bytes:
    base = resources.files(GRAPHIQL_PACKAGE) / "static" / GRAPHIQL_PACKAGE
    return (base / name).read_bytes()


async def static_file(request: Request) -> Response:
    name = request.path_params["name"]
    if name in OWN_FILES:
        return Response(_own(name), media_type=OWN_FILES[name], headers=LONG_CACHE)
    return not_found(request)


async def graphiql_asset(request: Request) -> Response:
    name = request.path_params["name"]
    if app_settings(request).is_production or name not in GRAPHIQL_FILES:
        return not_found(request)
    return Response(_graphiql(name), media_type=GRAPHIQL_FILES[name], headers=LONG_CACHE)


GRAPHIQL_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>GraphiQL – IKZ</title>
<link rel="stylesheet" href="/graphiql/graphiql.min.css">
<link rel="stylesheet" href="/static/site.css">
</head>
<body class="graphiql">
<div id="graphiql">Loading GraphiQL…</div>
<script src="/graphiql/react.production.min.js"></script>
<script src="/graphiql/react-dom.production.min.js"></script>
<script src="/graphiql/graphiql.min.js"></script>
<script src="/static/graphiql-start.js"></script>
</body>
</html>
"""
GRAPHIQL_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def graphiql_page() -> HTMLResponse:
    return HTMLResponse(GRAPHIQL_HTML, headers={"Content-Security-Policy": GRAPHIQL_CSP, "Cache-Control": "no-cache",
                                                "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"})


async def imprint(request: Request) -> Response:
    await run(request, "header")
    return render(request, "info.html", public=True, title="Impressum",
                  text="Verantwortlich für dieses Angebot ist die unten genannte Stelle. Die Betreiberin legt die "
                       "Adresse ihres Impressums mit IMPRINT_URL fest.")


async def privacy(request: Request) -> Response:
    await run(request, "header")
    return render(request, "info.html", public=True, title="Datenschutz",
                  text="Die Angabe personenbezogener Daten von Ansprechpersonen ist freiwillig; veröffentlicht wird "
                       "nur, wer selbst eingewilligt hat. Die Einwilligung kann jederzeit unter „Meine Daten“ "
                       "widerrufen werden; die Daten werden dann sofort gelöscht. Die Betreiberin legt die Adresse "
                       "ihrer Datenschutzerklärung mit PRIVACY_URL fest.")

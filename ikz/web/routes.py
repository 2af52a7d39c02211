"""The pages' routes, mounted by ikz/app.py."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route

from ikz.web import accounts, admin, catalogue, documents, export, ministry, proposals, static, statistics
from ikz.web.base import not_found, render

ROUTES = [
    Route("/", catalogue.search, methods=["GET"]),
    Route("/cooperations/{id}", catalogue.cooperation, methods=["GET"]),
    Route("/municipalities", catalogue.municipalities, methods=["GET"]),
    Route("/statistik", statistics.statistics, methods=["GET"]),
    Route("/municipalities/{id}", catalogue.municipality, methods=["GET"]),
    Route("/export/cooperations.csv", export.cooperations_csv, methods=["GET"]),
    Route("/documents/{id}/{name}", documents.download, methods=["GET"]),
    Route("/cooperations/{id}/documents", documents.manage, methods=["GET", "POST"]),
    Route("/export/cooperations.xlsx", export.cooperations_xlsx, methods=["GET"]),
    Route("/export/cooperations.geojson", export.cooperations_geojson, methods=["GET"]),
    Route("/login", accounts.login, methods=["GET", "POST"]),
    Route("/review/login", accounts.login, methods=["POST"]),  # older review pages post here
    Route("/logout", accounts.logout, methods=["POST"]),
    Route("/password-reset", accounts.password_reset, methods=["GET", "POST"]),
    Route("/reset-password", accounts.reset_password, methods=["GET", "POST"]),
    Route("/me", accounts.me, methods=["GET"]),
    Route("/me/activate", accounts.activate_steps, methods=["GET", "POST"]),
    Route("/me/edit", accounts.edit, methods=["GET", "POST"]),
    Route("/me/password", accounts.change_password, methods=["GET", "POST"]),
    Route("/me/delete", accounts.delete, methods=["GET", "POST"]),
    Route("/me/data.json", accounts.my_data, methods=["GET"]),
    Route("/me/cooperations/new", proposals.propose_new, methods=["GET", "POST"]),
    Route("/me/cooperations/{id}/propose", proposals.propose_change, methods=["GET", "POST"]),
    Route("/me/cooperations/{id}/documents", documents.propose, methods=["GET", "POST"]),
    Route("/review", ministry.review_inbox, methods=["GET"]),
    Route("/review/{id}", ministry.review_change, methods=["GET", "POST"]),
    Route("/admin", admin.home, methods=["GET"]),
    Route("/admin/contacts", admin.contacts, methods=["GET"]),
    Route("/admin/contacts/new", admin.new_contact, methods=["GET", "POST"]),
    Route("/admin/contacts/{id}", admin.contact, methods=["GET", "POST"]),
    Route("/admin/mail", admin.mail, methods=["GET", "POST"]),
    Route("/admin/audit", admin.audit, methods=["GET"]),
    Route("/admin/staff", admin.staff_accounts, methods=["GET", "POST"]),
    Route("/admin/import", admin.import_contacts, methods=["GET", "POST"]),
    Route("/impressum", static.imprint, methods=["GET"]),
    Route("/datenschutz", static.privacy, methods=["GET"]),
    Route("/static/{name}", static.static_file, methods=["GET"]),
    Route("/graphiql/{name}", static.graphiql_asset, methods=["GET"]),
]


def install_offline_graphiql(view) -> None:
    """/graphql in a browser (development): GraphiQL from the installed package, not from a CDN."""

    async def render_graphql_ide(request: Request):
        return static.graphiql_page()

    view.render_graphql_ide = render_graphql_ide


async def _http_error(request: Request, exc: HTTPException):
    if exc.status_code == 404:
        return not_found(request)
    if exc.status_code == 405:
        return render(request, "message.html", status=405, title="Nicht erlaubt", ok=False,
                      message="Diese Adresse nimmt diese Anfrage nicht an.")
    return render(request, "message.html", status=exc.status_code, title="Fehler", ok=False,
                  message="Die Anfrage konnte nicht bearbeitet werden.")


EXCEPTION_HANDLERS = {HTTPException: _http_error}

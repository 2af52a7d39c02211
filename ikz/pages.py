"""The activation page the invitation mail links to (/activate?token=…).

Plain HTML forms that work without JavaScript. Like every page it reads and writes through the
GraphQL schema: `invitation(token)` (ikz/operations/activate.graphql) describes the link,
`acceptInvitation` (activate-submit.graphql) sets the password and confirms the data in one step. The token in the link doubles as the
form's CSRF protection; responses are never cached and send no referrer (the URL
holds the token).
"""

from __future__ import annotations

import functools
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from service.accounts import passwords
from service.config import get_settings
from service.mail.render import SERVICE_NAME

from ikz.web.base import FORM_LIMIT, SECURITY_HEADERS, run

TEMPLATES = Path(__file__).with_name("templates")

# German texts for the messages the service raises in English for API clients.
FIELD_NAMES = {
    "firstName": "Vorname", "lastName": "Nachname", "email": "E-Mail", "phone": "Telefon",
    "salutation": "Anrede", "title": "Titel", "function": "Funktion",
}


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))


def page(name: str, status: int = 200, **values) -> HTMLResponse:
    settings = get_settings()
    context = dict(
        service_name=SERVICE_NAME, support_contact=settings.support_contact, min_length=passwords.MIN_LENGTH,
        imprint_url=settings.imprint_url or "/impressum", privacy_url=settings.privacy_url or "/datenschutz",
        ide=not settings.is_production, me=None, form_token=lambda: "",
    )
    context.update(values)
    html = _environment().get_template(name).render(**context)
    headers = SECURITY_HEADERS
    if name.startswith("activate"):
        # The activation link's token is in the URL: no referrer at all (that form needs no Origin check).
        headers = {**SECURITY_HEADERS, "Referrer-Policy": "no-referrer"}
    return HTMLResponse(html, status_code=status, headers=headers)


def _german(error) -> str:
    """German text for a GraphQL error (message and field) the service raised in English."""
    field = error.field or ""
    if field in ("newPassword", "password"):
        text = error.message
        if "at least" in text:
            return f"Das Passwort muss mindestens {passwords.MIN_LENGTH} Zeichen haben."
        if "username" in text:
            return "Das Passwort darf den Benutzernamen nicht enthalten."
        if "initial" in text:
            return "Bitte wählen Sie ein neues Passwort, nicht das Erstpasswort."
        if "common" in text:
            return "Dieses Passwort ist zu verbreitet oder zu einfach; bitte wählen Sie ein anderes."
        if "at most" in text:
            return "Das Passwort ist zu lang."
    if field in FIELD_NAMES:
        return f"Bitte prüfen Sie das Feld „{FIELD_NAMES[field]}“."
    return "Die Eingabe konnte nicht gespeichert werden. Bitte prüfen Sie Ihre Angaben."


def _invalid_link() -> HTMLResponse:
    return page(
        "link_invalid.html", status=410,
        message="Der Link ist unbekannt, wurde bereits verwendet oder ist abgelaufen. "
        "Bitte fordern Sie beim Ministerium eine neue Einladung an.",
    )


async def _form(request: Request) -> dict[str, str]:
    if int(request.headers.get("content-length") or 0) > FORM_LIMIT:
        return {}
    form = await request.form(max_files=0, max_fields=40)
    return {k: v for k, v in form.items() if isinstance(v, str)}


# The form's field names (the template's) and the GraphQL ContactDataInput's.
CONTACT_FIELDS = {"salutation": "salutation", "title": "title", "first_name": "firstName",
                  "last_name": "lastName", "function": "function", "email": "email", "phone": "phone"}


async def _invitation(request: Request, token: str) -> dict | None:
    """The invitation behind the token through the ActivatePage query (None if the link is not valid)."""
    if not token or len(token) > 200:
        return None
    result = await run(request, "activate", {"token": token})
    return (result.data or {}).get("invitation") if result.ok else None


def _form_page(invitation: dict, token: str, data: dict | None, errors: list[str], status: int = 200) -> HTMLResponse:
    return page("activate.html", status=status, username=invitation["username"], token=token, action="/activate",
                data=data, municipality=invitation.get("municipality"), errors=errors)


async def activate(request: Request) -> HTMLResponse:
    if request.method == "GET":
        token = request.query_params.get("token", "")
        invitation = await _invitation(request, token)
        if invitation is None:
            return _invalid_link()
        contact = invitation.get("contact")
        data = {field: contact.get(name) for field, name in CONTACT_FIELDS.items()} if contact else None
        return _form_page(invitation, token, data, [])
    form = await _form(request)
    token = form.get("token", "")
    invitation = await _invitation(request, token)
    if invitation is None:
        return _invalid_link()
    has_contact = invitation.get("contact") is not None
    data = {field: form.get(field, "") for field in CONTACT_FIELDS} if has_contact else None
    errors = []
    password = form.get("password", "")
    if password != form.get("password_repeat", ""):
        errors.append("Die beiden Passwörter stimmen nicht überein.")
    if has_contact and form.get("consent") != "yes":
        errors.append("Bitte bestätigen Sie die Einwilligung zur Veröffentlichung.")
    if not errors:
        contact_input = None
        if data is not None:
            contact_input = {name: (data[field] or None) for field, name in CONTACT_FIELDS.items()}
            for required in ("firstName", "lastName", "email"):
                contact_input[required] = contact_input[required] or ""
        result = await run(request, "activate-submit", {"token": token, "newPassword": password,
                                                         "input": contact_input, "consent": has_contact})
        if result.ok:
            accepted = result.data["acceptInvitation"]
            published = accepted["contactState"] in (None, "PUBLIC")
            return page("activated.html", username=accepted["username"], published=published)
        if any(error.field == "token" for error in result.errors):
            return _invalid_link()
        errors = [_german(error) for error in result.errors[:1]]
    return _form_page(invitation, token, data, errors, status=400)

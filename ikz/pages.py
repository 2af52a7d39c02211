"""The activation page the invitation mail links to (/activate?token=…).

Plain HTML forms that work without JavaScript. The token in the link doubles as the
form's CSRF protection; responses are never cached and send no referrer (the URL
holds the token).
"""

from __future__ import annotations

import functools
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from tortoise.transactions import in_transaction

from service.accounts import passwords, self_service, sessions
from service.accounts.contact_data import ContactData, normalise
from service.accounts.models import Account
from service.accounts.onboarding import TokenInvalid, find_activation, set_first_password
from service.catalogue.models import ContactState, Organization
from service.config import get_settings
from service.errors import DomainError
from service.mail.render import SERVICE_NAME
from service.mail.worker import wake

from ikz.web.base import FORM_LIMIT, SECURITY_HEADERS

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


def _german(error: DomainError) -> str:
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


async def _activation(token: str):
    """The activation behind a token and the name of the person's municipality (TokenInvalid if none)."""
    activation = await find_activation(token)
    contact = activation.contact
    org = await Organization.get_or_none(id=contact.organization_id) if contact and contact.organization_id else None
    return activation, contact, org


async def activate(request: Request) -> HTMLResponse:
    if request.method == "GET":
        token = request.query_params.get("token", "")
        try:
            activation, contact, org = await _activation(token)
        except TokenInvalid:
            return _invalid_link()
        return page("activate.html", username=activation.account.username, token=token, action="/activate",
                    data=ContactData.of(contact) if contact else None, municipality=org.name if org else None,
                    errors=[])
    form = await _form(request)
    token = form.get("token", "")
    try:
        activation, contact, org = await _activation(token)
    except TokenInvalid:
        return _invalid_link()
    data = ContactData(
        first_name=form.get("first_name", ""), last_name=form.get("last_name", ""), email=form.get("email", ""),
        salutation=form.get("salutation") or None, title=form.get("title") or None,
        function=form.get("function") or None, phone=form.get("phone") or None,
    )
    errors = []
    password = form.get("password", "")
    if password != form.get("password_repeat", ""):
        errors.append("Die beiden Passwörter stimmen nicht überein.")
    else:
        try:
            passwords.check_policy(password, username=activation.account.username)
        except DomainError as exc:
            errors.append(_german(exc))
    if contact is not None:
        try:
            normalise(data)
        except DomainError as exc:
            errors.append(_german(exc))
        if form.get("consent") != "yes":
            errors.append("Bitte bestätigen Sie die Einwilligung zur Veröffentlichung.")
    if errors:
        return page("activate.html", status=400, username=activation.account.username, token=token,
                    action="/activate", data=data, municipality=org.name if org else None, errors=errors)
    try:
        async with in_transaction():
            await set_first_password(activation.account, password, token_id=activation.token_id)
            published = True
            if contact is not None:
                account = await Account.get(id=activation.account.id)
                who = await sessions.principal_for(account)
                confirmed = await self_service.confirm_my_data(who, data, True)
                published = confirmed.state is ContactState.PUBLIC
    except DomainError as exc:
        return page("activate.html", status=400, username=activation.account.username, token=token,
                    action="/activate", data=data, municipality=org.name if org else None, errors=[_german(exc)])
    wake()
    return page("activated.html", username=activation.account.username, published=published)

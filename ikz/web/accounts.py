"""Sign-in and "Meine Daten": /login, /logout, /password-reset, /reset-password, /me and its forms."""

from __future__ import annotations

from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ikz.web.base import (forbidden_form, form_data, getstr, redirect, render, run, safe_next)
from ikz.web.messages import MIN_PASSWORD, form_errors, german, local_error

CONTACT_FIELDS = ("salutation", "title", "firstName", "lastName", "function", "email", "phone")


def _login_url(next_path: str) -> str:
    return "/login?" + urlencode({"next": next_path})


# --- sign in and out ---------------------------------------------------------------------------

async def login(request: Request) -> Response:
    if request.method == "GET":
        next_path = safe_next(request.query_params.get("next"))
        header = await run(request, "header")
        me = (header.data or {}).get("me")
        if me:
            return redirect(next_path)
        return render(request, "login.html", next=next_path, username="", errors=[], field_errors={})
    form = await form_data(request)
    if form is None:
        return forbidden_form(request)
    next_path = safe_next(getstr(form, "next"))
    username = getstr(form, "username", 200)
    password = form.get("password", "") if isinstance(form.get("password"), str) else ""
    errors = []
    if not username:
        errors.append(local_error("username", "Bitte geben Sie Ihren Benutzernamen an."))
    if not password:
        errors.append(local_error("password", "Bitte geben Sie Ihr Passwort an."))
    if not errors:
        result = await run(request, "login", {"username": username, "password": password[:1024]})
        if result.ok:
            me = result.data["login"]["me"]
            target = "/me/activate" if me["requiredActions"] else next_path
            return result.apply(redirect(target))
        code = result.code()
        errors.append(local_error("username", german(result.errors[0])
                                  if code == "TOO_MANY_ATTEMPTS" else "Benutzername oder Passwort ist falsch."))
    summary, per_field = form_errors(errors, {"username", "password"})
    return render(request, "login.html", status=400, next=next_path, username=username, errors=summary,
                  field_errors=per_field)


async def logout(request: Request) -> Response:
    form = await form_data(request)
    if form is None:
        return forbidden_form(request)
    result = await run(request, "logout")
    request.state.me = None
    return result.apply(render(request, "message.html", title="Abgemeldet", ok=True,
                               message="Sie sind abgemeldet.", next_link=("/login", "Wieder anmelden")))


async def password_reset(request: Request) -> Response:
    if request.method == "GET":
        await run(request, "header")
        return render(request, "password_reset.html", errors=[], field_errors={}, value="", sent=False)
    form = await form_data(request)
    if form is None:
        return forbidden_form(request)
    value = getstr(form, "usernameOrEmail", 254)
    if not value:
        summary, per_field = form_errors([local_error("usernameOrEmail", "Bitte geben Sie Benutzernamen oder E-Mail-Adresse an.")],
                                         {"usernameOrEmail"})
        return render(request, "password_reset.html", status=400, errors=summary, field_errors=per_field,
                      value="", sent=False)
    result = await run(request, "password-reset", {"usernameOrEmail": value})
    return result.apply(render(request, "password_reset.html", errors=[], field_errors={}, value="", sent=True))


async def reset_password(request: Request) -> Response:
    """The page the reset mail links to."""
    if request.method == "GET":
        token = request.query_params.get("token", "")
        if not token or len(token) > 200:
            return _invalid_reset(request)
        return render(request, "reset_password.html", token=token, errors=[], field_errors={})
    form = await form_data(request)
    if form is None:
        return forbidden_form(request)
    token = getstr(form, "token", 200)
    new, repeat = _str(form, "newPassword"), _str(form, "newPasswordRepeat")
    errors = _password_pair_errors(new, repeat)
    if not errors:
        result = await run(request, "reset-password", {"token": token, "newPassword": new})
        if result.ok:
            return render(request, "message.html", title="Passwort geändert", ok=True,
                          message="Ihr neues Passwort gilt ab sofort. Frühere Anmeldungen sind beendet.",
                          next_link=("/login", "Jetzt anmelden"))
        if any(e.field == "token" for e in result.errors):
            return _invalid_reset(request)
        errors = result.errors
    summary, per_field = form_errors(errors, {"newPassword", "newPasswordRepeat"})
    return render(request, "reset_password.html", status=400, token=token, errors=summary, field_errors=per_field)


def _invalid_reset(request: Request) -> Response:
    return render(request, "message.html", status=410, title="Link nicht gültig", ok=False,
                  message="Der Link ist unbekannt, wurde bereits verwendet oder ist abgelaufen.",
                  next_link=("/password-reset", "Neuen Link anfordern"))


def _str(form: dict, key: str) -> str:
    value = form.get(key, "")
    return value[:1024] if isinstance(value, str) else ""


def _password_pair_errors(new: str, repeat: str) -> list:
    if len(new) < MIN_PASSWORD:
        return [local_error("newPassword", f"Das Passwort muss mindestens {MIN_PASSWORD} Zeichen haben.")]
    if new != repeat:
        return [local_error("newPasswordRepeat", "Die beiden Passwörter stimmen nicht überein.")]
    return []


# --- Meine Daten ------------------------------------------------------------------------------

async def _me_page(request: Request, operation: str = "me"):
    """(the page's data, None) or (None, the redirect to sign in / to the activation steps)."""
    result = await run(request, operation)
    me = (result.data or {}).get("me")
    if any(e.code == "ACTION_REQUIRED" for e in result.errors) and request.url.path != "/me/activate":
        return None, redirect("/me/activate")  # the start password: the activation steps come first
    if me is None:
        return None, redirect(_login_url(request.url.path))
    if me["requiredActions"] and request.url.path != "/me/activate" and request.url.path != "/me/delete":
        return None, redirect("/me/activate")
    return result.data, None


def _contact_form(form: dict) -> dict:
    return {k: getstr(form, k, 300) for k in CONTACT_FIELDS}


def _contact_input(values: dict) -> dict:
    return {k: (values[k] or None) if k not in ("firstName", "lastName", "email") else values[k] for k in CONTACT_FIELDS}


async def me(request: Request) -> Response:
    data, stop = await _me_page(request)
    if stop:
        return stop
    notice = {"changed": "Ihre Änderung ist eingereicht. Bis zur Freigabe durch das Ministerium bleiben die bisherigen Daten öffentlich.",
              "proposed": "Ihr Vorschlag ist eingereicht und wartet auf die Freigabe durch das Ministerium.",
              "password": "Ihr Passwort ist geändert; andere Anmeldungen sind beendet.",
              "confirmed": "Danke! Ihre Daten sind bestätigt."}.get(request.query_params.get("done", ""))
    return render(request, "me.html", me=data["me"], changes=data.get("myChanges") or [], notice=notice)


async def activate_steps(request: Request) -> Response:
    """After signing in with the start password: set a password, then confirm the data with consent."""
    data, stop = await _me_page(request, "activation-steps")
    if stop:
        return stop
    me_data = data["me"]
    actions = me_data["requiredActions"]
    if not actions:
        return redirect("/me")
    step = "password" if "SET_PASSWORD" in actions else "confirm"
    needs_password = step == "password"
    contact = me_data.get("contact") or {}
    values = {k: contact.get(k) or "" for k in CONTACT_FIELDS}
    if request.method == "GET":
        return render(request, "activate_steps.html", me=me_data, step=step, values=values, consent=False,
                      errors=[], field_errors={}, needs_password=needs_password)
    form = await form_data(request)
    if form is None:
        return forbidden_form(request)
    if step == "password":
        current, new, repeat = _str(form, "currentPassword"), _str(form, "newPassword"), _str(form, "newPasswordRepeat")
        errors = [] if current else [local_error("currentPassword", "Bitte geben Sie Ihr Startpasswort an.")]
        errors = errors or _password_pair_errors(new, repeat)
        if not errors:
            result = await run(request, "change-password", {"currentPassword": current, "newPassword": new})
            if result.ok:
                left = result.data["changePassword"]["requiredActions"]
                return result.apply(redirect("/me/activate" if left else "/me?done=password"))
            errors = result.errors
        summary, per_field = form_errors(errors, {"currentPassword", "newPassword", "newPasswordRepeat"})
        return render(request, "activate_steps.html", status=400, me=me_data, step=step, values=values,
                      consent=False, errors=summary, field_errors=per_field, needs_password=True)
    values = _contact_form(form)
    consent = form.get("consent") == "yes"
    errors = [] if consent else [local_error("consent", "Bitte bestätigen Sie die Einwilligung zur Veröffentlichung.")]
    if not errors:
        result = await run(request, "confirm-data", {"input": _contact_input(values), "consent": True})
        if result.ok:
            return redirect("/me?done=confirmed")
        errors = result.errors
    summary, per_field = form_errors(errors, set(CONTACT_FIELDS) | {"consent"})
    return render(request, "activate_steps.html", status=400, me=me_data, step=step, values=values, consent=consent,
                  errors=summary, field_errors=per_field, needs_password=False)


async def edit(request: Request) -> Response:
    data, stop = await _me_page(request)
    if stop:
        return stop
    me_data = data["me"]
    contact = me_data.get("contact")
    if contact is None:
        return render(request, "message.html", status=404, title="Keine Kontaktdaten", ok=False,
                      message="Zu Ihrem Zugang gehören keine Kontaktdaten.", next_link=("/me", "Zurück zu Meine Daten"))
    if request.method == "GET":
        values = {k: contact.get(k) or "" for k in CONTACT_FIELDS}
        return render(request, "me_edit.html", me=me_data, values=values, version=contact["version"], errors=[],
                      field_errors={})
    form = await form_data(request)
    if form is None:
        return forbidden_form(request)
    values = _contact_form(form)
    try:
        version = int(getstr(form, "baseVersion", 12)) if getstr(form, "baseVersion", 12).isascii() else contact["version"]
    except ValueError:
        version = contact["version"]
    result = await run(request, "update-contact", {"input": _contact_input(values), "baseVersion": version})
    if result.ok:
        return redirect("/me?done=changed")
    summary, per_field = form_errors(result.errors, set(CONTACT_FIELDS))
    return render(request, "me_edit.html", status=400, me=me_data, values=values, version=contact["version"],
                  errors=summary, field_errors=per_field)


async def change_password(request: Request) -> Response:
    data, stop = await _me_page(request)
    if stop:
        return stop
    if request.method == "GET":
        return render(request, "me_password.html", me=data["me"], errors=[], field_errors={})
    form = await form_data(request)
    if form is None:
        return forbidden_form(request)
    current, new, repeat = _str(form, "currentPassword"), _str(form, "newPassword"), _str(form, "newPasswordRepeat")
    errors = [] if current else [local_error("currentPassword", "Bitte geben Sie Ihr bisheriges Passwort an.")]
    errors = errors or _password_pair_errors(new, repeat)
    if not errors:
        result = await run(request, "change-password", {"currentPassword": current, "newPassword": new})
        if result.ok:
            return result.apply(redirect("/me?done=password"))
        errors = result.errors
    summary, per_field = form_errors(errors, {"currentPassword", "newPassword", "newPasswordRepeat"})
    return render(request, "me_password.html", status=400, me=data["me"], errors=summary, field_errors=per_field)


async def delete(request: Request) -> Response:
    data, stop = await _me_page(request, "activation-steps")
    if stop:
        return stop
    if data["me"].get("contact") is None:
        return redirect("/me")
    if request.method == "GET":
        return render(request, "me_delete.html", me=data["me"], errors=[])
    form = await form_data(request)
    if form is None:
        return forbidden_form(request)
    if form.get("confirm") != "yes":
        summary, _ = form_errors([local_error("confirm", "Bitte bestätigen Sie, dass Ihre Daten gelöscht werden sollen.")],
                                 {"confirm"})
        return render(request, "me_delete.html", status=400, me=data["me"], errors=summary)
    result = await run(request, "delete-contact")
    if not result.ok:
        summary, _ = form_errors(result.errors, set())
        return render(request, "me_delete.html", status=400, me=data["me"], errors=summary)
    request.state.me = None
    return result.apply(render(request, "message.html", me=None, title="Daten gelöscht", ok=True,
                               message="Ihre personenbezogenen Daten sind gelöscht und Ihr Zugang ist geschlossen. "
                                       "Sie erscheinen nicht mehr in der öffentlichen Datenbank.",
                               next_link=("/", "Zur Startseite")))


async def my_data(request: Request) -> Response:
    result = await run(request, "my-data")
    if not result.ok or result.data is None:
        return redirect(_login_url("/me"))
    body = orjson.dumps(result.data["myData"], option=orjson.OPT_INDENT_2)
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": 'attachment; filename="meine-daten.json"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    })

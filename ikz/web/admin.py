"""The admin console (/admin/...): contacts, creating a contact, mail deliveries, the audit trail.

Each page is one operation of ikz/operations/admin-*.graphql; `ministry.staff_run` answers the
sign-in page to visitors and 403 to everyone without the ADMIN role.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from ikz.web.base import ascii_id, getlist, getstr, not_found, redirect, render, run
from ikz.web.messages import form_errors, local_error
from ikz.web.ministry import staff_form, staff_run

ADMIN = ("ADMIN",)
PAGE = 20
CONTACT_STATES = ("CREATED", "INVITED", "AWAITING_APPROVAL", "PUBLIC")
MAIL_STATUSES = ("PENDING", "SENDING", "SENT", "FAILED")
MAIL_STATUS_LABELS = {"PENDING": "wartet", "SENDING": "wird gesendet", "SENT": "gesendet", "FAILED": "fehlgeschlagen"}
AUDIT_ACTIONS = ("LOGIN_SUCCEEDED", "LOGIN_FAILED", "CONTACT_CREATED", "INVITATION_SENT", "ACCOUNT_ACTIVATED",
                 "PASSWORD_CHANGED", "PASSWORD_RESET", "DATA_CONFIRMED", "CHANGE_PROPOSED", "CHANGE_APPROVED",
                 "CHANGE_REJECTED", "CHANGE_CONFLICTING", "DIRECT_EDIT", "CONTACT_DELETED", "USER_CREATED",
                 "MAIL_RETRIED", "USER_DISABLED", "DOCUMENT_ATTACHED", "DOCUMENT_WITHDRAWN")
AUDIT_LABELS = {
    "LOGIN_SUCCEEDED": "Anmeldung", "LOGIN_FAILED": "Anmeldung fehlgeschlagen", "CONTACT_CREATED": "Kontakt angelegt",
    "INVITATION_SENT": "Einladung gesendet", "ACCOUNT_ACTIVATED": "Zugang aktiviert",
    "PASSWORD_CHANGED": "Passwort geändert", "PASSWORD_RESET": "Passwort zurückgesetzt",
    "DATA_CONFIRMED": "Daten bestätigt", "CHANGE_PROPOSED": "Änderung eingereicht",
    "CHANGE_APPROVED": "Änderung freigegeben", "CHANGE_REJECTED": "Änderung abgelehnt",
    "CHANGE_CONFLICTING": "Änderung überholt", "DIRECT_EDIT": "direkt bearbeitet",
    "CONTACT_DELETED": "Daten gelöscht", "USER_CREATED": "Zugang angelegt", "MAIL_RETRIED": "Mail erneut gesendet",
    "USER_DISABLED": "Konto deaktiviert", "DOCUMENT_ATTACHED": "Dokument veröffentlicht",
    "DOCUMENT_WITHDRAWN": "Dokument zurückgezogen",
}
CONTACT_FIELDS = ("salutation", "title", "firstName", "lastName", "function", "email", "phone")
LABELS = {"MAIL_STATUS_LABELS": MAIL_STATUS_LABELS, "AUDIT_LABELS": AUDIT_LABELS}


def _render(request: Request, name: str, status: int = 200, **values) -> Response:
    return render(request, name, status=status, **LABELS, **values)


async def home(request: Request) -> Response:
    result, stop = await staff_run(request, "admin-home", roles=ADMIN)
    if stop:
        return stop
    return _render(request, "admin/index.html", failed=len(result.data["failedMails"]),
                   pending=len(result.data["pending"]))


# --- contacts ----------------------------------------------------------------------------------

async def _municipalities(request: Request, text: str) -> list[dict]:
    text = text.strip()[:100]
    if not text:
        return []
    variables = {"filter": {"ags": [text]}} if text.isascii() and text.isdigit() else {"search": text}
    result = await run(request, "admin-municipality-lookup", variables)
    return [e["node"] for e in ((result.data or {}).get("municipalities") or {}).get("edges", [])]


async def contacts(request: Request) -> Response:
    params = request.query_params
    state = params.get("state", "")
    state = state if state in CONTACT_STATES else ""
    search = (params.get("q") or "").strip()[:100]
    municipality_text = (params.get("municipality") or "").strip()[:100]
    municipality_id = ascii_id(params.get("municipalityId"))
    after = ascii_id(params.get("after"))
    picked = None
    if municipality_text and not municipality_id:
        found = await _municipalities(request, municipality_text)
        if found:
            picked = found[0]
            municipality_id = picked["id"]
        else:
            municipality_id = "2147483647"  # nothing matches: an empty list, not every contact
    result, stop = await staff_run(request, "admin-contacts", {
        "states": [state] if state else None, "municipalityId": municipality_id, "search": search or None,
        "first": PAGE + 1, "after": after}, roles=ADMIN)
    if stop:
        return stop
    rows = result.data["contactPersons"]
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    base = {"state": state, "q": search, "municipality": municipality_text,
            "municipalityId": params.get("municipalityId") or ""}
    next_query = urlencode({**base, "after": rows[-1]["id"]}) if more else None
    return _render(request, "admin/contacts.html", rows=rows, state=state, q=search, municipality=municipality_text,
                   picked=picked, next_query=next_query, first_query=urlencode(base) if after else None,
                   states=CONTACT_STATES)


async def contact(request: Request) -> Response:
    contact_id = ascii_id(request.path_params.get("id"))
    if contact_id is None:
        return not_found(request)
    message, ok = None, True
    if request.method == "POST":
        form, stop = await staff_form(request, ADMIN)
        if stop:
            return stop
        sent = await run(request, "admin-resend-invitation", {"id": contact_id})
        if sent.ok:
            return redirect(f"/admin/contacts/{contact_id}?done=resent")
        message, ok = ("Die Einladung konnte nicht erneut gesendet werden: "
                       + ("der Zugang ist schon aktiviert oder noch nicht eingeladen." if sent.code() == "CONFLICT"
                          else "bitte versuchen Sie es später noch einmal.")), False
    result, stop = await staff_run(request, "admin-contact", {"id": contact_id}, roles=ADMIN)
    if stop:
        return stop
    person = result.data.get("contactPerson")
    if person is None:
        return not_found(request, "Diese Kontaktperson gibt es nicht.")
    done = request.query_params.get("done")
    if done == "resent":
        message = "Die Einladung ist erneut unterwegs; der frühere Link und das frühere Startpasswort gelten nicht mehr."
    elif done == "created":
        message = (f"Die Kontaktperson ist angelegt und eingeladen. Benutzername: {person['username']}")
    return _render(request, "admin/contact.html", status=200 if ok else 409, person=person,
                   history=result.data["history"], message=message, ok=ok,
                   can_resend=person["state"] == "INVITED")


async def new_contact(request: Request) -> Response:
    """Step 1 (GET ?q=): pick the municipality by name or AGS. Step 2 (?municipality=<id>): the form."""
    municipality_id = ascii_id(request.query_params.get("municipality") or None)
    form = None
    if request.method == "POST":
        form, stop = await staff_form(request, ADMIN)
        if stop:
            return stop
        municipality_id = ascii_id(getstr(form, "municipality", 20))
    if municipality_id is None:
        q = (request.query_params.get("q") or "").strip()[:100]
        header, stop = await staff_run(request, "staff-header", roles=ADMIN)
        if stop:
            return stop
        found = await _municipalities(request, q) if q else []
        return _render(request, "admin/contact_pick.html", q=q, found=found, searched=bool(q))
    result, stop = await staff_run(request, "admin-contact-form", {"id": municipality_id}, roles=ADMIN)
    if stop:
        return stop
    municipality = result.data.get("municipality")
    if municipality is None:
        return not_found(request, "Diese Kommune gibt es nicht.")
    values = {k: "" for k in CONTACT_FIELDS}
    chosen: list[str] = []
    errors, field_errors = [], {}
    if form is not None:
        values = {k: getstr(form, k, 300) for k in CONTACT_FIELDS}
        chosen = [c for c in getlist(form, "cooperation") if ascii_id(c)]
        local = [local_error(k, f"Bitte geben Sie {label} an.") for k, label in
                 (("firstName", "den Vornamen"), ("lastName", "den Nachnamen"), ("email", "die E-Mail-Adresse"))
                 if not values[k]]
        if not local:
            created = await run(request, "admin-create-contact", {"input": {
                "municipalityId": municipality_id, "cooperationIds": chosen,
                **{k: (values[k] or None) for k in CONTACT_FIELDS}}})
            if created.ok:
                return created.apply(redirect(f"/admin/contacts/{created.data['createContact']['id']}?done=created"))
            local = created.errors
        errors, field_errors = form_errors(local, set(CONTACT_FIELDS))
    return _render(request, "admin/contact_new.html", status=400 if errors else 200, municipality=municipality,
                   values=values, chosen=chosen, errors=errors, field_errors=field_errors)


# --- mail --------------------------------------------------------------------------------------

async def mail(request: Request) -> Response:
    message, ok = None, True
    if request.method == "POST":
        form, stop = await staff_form(request, ADMIN)
        if stop:
            return stop
        mail_id = ascii_id(getstr(form, "mail", 20))
        retried = await run(request, "admin-retry-mail", {"id": mail_id}) if mail_id else None
        if retried is not None and retried.ok:
            return redirect(f"/admin/mail?{urlencode({'status': getstr(form, 'status', 20), 'done': mail_id})}")
        message, ok = "Diese Mail konnte nicht erneut gesendet werden (schon gesendet oder unbekannt).", False
    status = request.query_params.get("status", "")
    status = status if status in MAIL_STATUSES else ""
    before = ascii_id(request.query_params.get("before"))
    result, stop = await staff_run(request, "admin-mail", {"status": status or None, "first": PAGE + 1,
                                                           "before": before}, roles=ADMIN)
    if stop:
        return stop
    rows = result.data["mailDeliveries"]
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    done = ascii_id(request.query_params.get("done"))
    if done and message is None:
        message = f"Mail {done} wird erneut gesendet."
    return _render(request, "admin/mail.html", status=200 if ok else 409, rows=rows, status_filter=status,
                   statuses=MAIL_STATUSES, message=message, ok=ok,
                   next_query=urlencode({"status": status, "before": rows[-1]["id"]}) if more else None,
                   first_query=urlencode({"status": status}) if before else None)


# --- audit -------------------------------------------------------------------------------------

def _day(value: str | None, end: bool = False) -> str | None:
    try:
        day = dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min, tzinfo=dt.timezone.utc)
    return moment.isoformat()


async def audit(request: Request) -> Response:
    params = request.query_params
    action = params.get("action", "")
    action = action if action in AUDIT_ACTIONS else ""
    actor = ascii_id(params.get("actor"))
    subject_type = params.get("subjectType", "")
    subject_type = subject_type if subject_type in ("contact", "cooperation", "account", "mail") else ""
    subject_id = ascii_id(params.get("subjectId"))
    since, until = _day(params.get("since")), _day(params.get("until"), end=True)
    after = ascii_id(params.get("after"))
    flt = {"actions": [action] if action else None, "actorId": actor, "subjectType": subject_type or None,
           "subjectId": subject_id, "since": since, "until": until}
    result, stop = await staff_run(request, "admin-audit", {"filter": flt, "first": PAGE + 1, "after": after},
                                   roles=ADMIN)
    if stop:
        return stop
    rows = result.data["auditLog"]
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    base = {"action": action, "actor": actor or "", "subjectType": subject_type, "subjectId": subject_id or "",
            "since": params.get("since", "")[:10] if since else "", "until": params.get("until", "")[:10] if until else ""}
    return _render(request, "admin/audit.html", rows=rows, f=base, actions=AUDIT_ACTIONS,
                   next_query=urlencode({**base, "after": rows[-1]["id"]}) if more else None,
                   first_query=urlencode(base) if after else None)


# --- staff accounts ----------------------------------------------------------------------------

STAFF_FIELDS = ("username", "email", "firstName", "lastName", "role", "scope")
STAFF_MESSAGES = {"username": "Benutzername: 2–64 Zeichen a–z, 0–9, Punkt, Unterstrich oder Bindestrich; nicht vergeben.",
                  "email": "Bitte geben Sie eine gültige E-Mail-Adresse an.",
                  "scope": "Kein Land oder Kreis mit diesem Schlüssel oder Namen."}


async def staff_accounts(request: Request) -> Response:
    values = {k: "" for k in STAFF_FIELDS}
    values["role"] = "APPROVER"
    errors, field_errors, status = [], {}, 200
    if request.method == "POST":
        form, stop = await staff_form(request, ADMIN)
        if stop:
            return stop
        if getstr(form, "action", 20) == "disable":
            account_id = ascii_id(getstr(form, "account", 20))
            done = await run(request, "admin-disable-staff", {"id": account_id}) if account_id else None
            if done is not None and done.ok:
                return redirect("/admin/staff?done=disabled")
            errors = [local_error(None, "Dieses Konto kann nicht deaktiviert werden (das eigene oder unbekannt).")]
            status = 409
        else:
            values = {k: getstr(form, k, 254) for k in STAFF_FIELDS}
            local = [local_error(k, f"Bitte geben Sie {label} an.") for k, label in
                     (("username", "den Benutzernamen"), ("email", "die E-Mail-Adresse"), ("firstName", "den Vornamen"),
                      ("lastName", "den Nachnamen")) if not values[k]]
            if values["role"] not in ("ADMIN", "APPROVER"):
                local.append(local_error("role", "Bitte wählen Sie eine Rolle."))
            if not local:
                created = await run(request, "admin-create-staff", {**{k: values[k] for k in STAFF_FIELDS[:5]},
                                                                    "scope": values["scope"] or None})
                if created.ok:
                    return redirect("/admin/staff?done=created")
                local = [local_error(e.field if e.field in STAFF_MESSAGES else None,
                                     STAFF_MESSAGES.get(e.field or "", "Das Konto konnte nicht angelegt werden."))
                         for e in created.errors]
            errors = local
            status = 400
        errors, field_errors = form_errors(errors, set(STAFF_FIELDS))
    q = request.query_params.get("q", "").strip()[:100]
    result, stop = await staff_run(request, "admin-staff", {"search": q or None}, roles=ADMIN)
    if stop:
        return stop
    done = {"created": "Das Konto ist angelegt; die Person erhält eine Mail mit einem Link, um ihr Passwort zu setzen.",
            "disabled": "Das Konto ist deaktiviert; seine Anmeldungen sind beendet."}.get(request.query_params.get("done", ""))
    return _render(request, "admin/staff.html", status=status, rows=result.data["staffAccounts"], q=q,
                   my_id=result.data["me"]["id"], values=values, errors=errors, field_errors=field_errors, done=done)


# --- CSV import --------------------------------------------------------------------------------

UPLOAD_LIMIT = 2 * 1024 * 1024


async def _upload(request: Request) -> str | None:
    """The uploaded CSV's text after the origin and CSRF checks (as `form_data`, for one file); None if refused."""
    import hmac

    from service.accounts.secrets import keyed_hash
    from ikz.web.base import _csrf_secret, app_settings, same_origin

    if int(request.headers.get("content-length") or 0) > UPLOAD_LIMIT + 64 * 1024:
        return None
    if not same_origin(request, app_settings(request)):
        return None
    form = await request.form(max_files=1, max_fields=10)
    secret = _csrf_secret(request)
    sent = form.get("csrf")
    if secret is None or not isinstance(sent, str) or not hmac.compare_digest(sent, keyed_hash(secret, "csrf-form")[:40]):
        return None
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        return ""
    data = await upload.read(UPLOAD_LIMIT + 1)
    if len(data) > UPLOAD_LIMIT:
        return ""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


async def import_contacts(request: Request) -> Response:
    report, message, ok, status = None, None, True, 200
    if request.method == "POST":
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            header = await run(request, "staff-header")
            from ikz.web.ministry import _gate

            stop = _gate(request, header, ADMIN)
            if stop:
                return stop
            text = await _upload(request)
            if text is None:
                from ikz.web.base import forbidden_form

                return forbidden_form(request)
            if not text.strip():
                message, ok, status = "Bitte wählen Sie eine CSV-Datei (UTF-8, höchstens 2 MB).", False, 400
            else:
                result = await run(request, "admin-import-contacts", {"csv": text})
                if result.ok:
                    report = result.data["importContacts"]
                    status = 200 if not report["errors"] else 422
                else:
                    message, ok, status = "Die Datei konnte nicht eingelesen werden.", False, 400
        else:
            form, stop = await staff_form(request, ADMIN)
            if stop:
                return stop
            invited = await run(request, "admin-invite-pending")
            if invited.ok:
                return redirect(f"/admin/import?invited={invited.data['invitePendingContacts']}")
            message, ok, status = "Die Einladungen konnten nicht angestoßen werden.", False, 409
    result, stop = await staff_run(request, "admin-import", roles=ADMIN)
    if stop:
        return stop
    invited = ascii_id(request.query_params.get("invited")) or ("0" if request.query_params.get("invited") == "0" else None)
    if invited is not None and message is None:
        message = f"{invited} Einladung(en) in die Warteschlange gestellt; sie werden im Hintergrund gesendet."
    return _render(request, "admin/import.html", status=status, report=report, message=message, ok=ok,
                   progress=result.data["invitationProgress"])

"""The page an approver's notification mail links to: see a change, approve or reject it.

Plain HTML forms (no JavaScript). Signing in sets the same HttpOnly session cookie as the
API; every decision form carries a token bound to the session and the change (CSRF).
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from service.accounts import sessions
from service.accounts.models import Role
from service.accounts.sessions import COOKIE_NAME
from service.accounts.principal import Principal
from service.accounts.secrets import keyed_hash
from service.approvals.changes import DELETED_PERSON, KIND_LABELS, change_diff, in_scope, is_deleted, record_title
from service.approvals.models import ChangeRequest, ChangeStatus
from service.approvals.review import approve, get_visible, reject
from service.config import get_settings
from service.errors import DomainError
from service.mail.worker import wake
from service.time import german_datetime
from urllib.parse import urlencode

from ikz.pages import SECURITY_HEADERS, _form, page
from ikz.web.base import ascii_id, render, same_origin

STATUS_LABELS = {
    ChangeStatus.PENDING: "wartet auf Freigabe", ChangeStatus.APPROVED: "freigegeben",
    ChangeStatus.REJECTED: "abgelehnt", ChangeStatus.CONFLICTING: "überholt", ChangeStatus.WITHDRAWN: "zurückgezogen",
}


def _german(error: DomainError) -> str:
    if error.code == "FORBIDDEN":
        return "Das dürfen Sie nicht: die Änderung liegt außerhalb Ihres Freigabebereichs oder ist Ihre eigene."
    if error.code == "CONFLICT":
        return "Die Änderung ist nicht mehr offen oder der Datensatz wurde inzwischen geändert."
    if error.field == "reason":
        return "Bitte geben Sie eine Begründung an."
    return "Die Entscheidung konnte nicht gespeichert werden."


def _csrf(principal: Principal, change_id: int) -> str:
    return keyed_hash(f"{principal.session_id}:{change_id}", "review-form")[:32]


def _change_id(value: str | None) -> int | None:
    """ASCII decimal digits only: '¹' or '٣' pass str.isdigit() but are no id (answer 404, not a crash)."""
    clean = ascii_id(value)
    return int(clean) if clean else None


async def _principal(request: Request) -> Principal | None:
    return await sessions.resolve(request.cookies.get(COOKIE_NAME))


async def _show(request: Request, principal: Principal, change: ChangeRequest, *, message: str | None = None,
                ok: bool = True, status: int = 200) -> HTMLResponse:
    from service.accounts.models import Account

    submitter = await Account.get_or_none(id=change.submitted_by_id)
    can_decide = (change.status is ChangeStatus.PENDING and principal.has(Role.APPROVER)
                  and await in_scope(principal, change)
                  and change.submitted_by_id != principal.account_id)
    note = None
    if change.status is ChangeStatus.PENDING and not can_decide:
        note = ("Diese Änderung liegt außerhalb Ihres Freigabebereichs." if principal.has(Role.APPROVER)
                else "Nur Freigabeberechtigte des Ministeriums können Änderungen freigeben.")
    # Rendered in the common layout, so the header shows who is signed in (with the logout form).
    return render(
        request, "review.html", status=status, me={"username": principal.username}, change_id=change.id, kind=KIND_LABELS[change.kind],
        record_title=await record_title(change), submitter=DELETED_PERSON if is_deleted(submitter) else submitter.username,
        submitted_at=german_datetime(change.submitted_at), state=STATUS_LABELS[change.status],
        conflict_reason=change.conflict_reason, changes=await change_diff(change), can_decide=can_decide,
        csrf=_csrf(principal, change.id), note=note, message=message, ok=ok,
    )


async def review(request: Request) -> Response:
    change_id = _change_id(request.query_params.get("change"))
    if change_id is None:
        return page("link_invalid.html", status=404, message="Diese Änderung gibt es nicht.")
    principal = await _principal(request)
    if principal is None:
        return RedirectResponse("/login?" + urlencode({"next": f"/review?change={change_id}"}), status_code=303,
                                headers=SECURITY_HEADERS)
    if principal.required_actions:
        return RedirectResponse("/me/activate", status_code=303, headers=SECURITY_HEADERS)
    try:
        change = await get_visible(principal, change_id)
    except DomainError:
        return page("link_invalid.html", status=404, message="Diese Änderung gibt es nicht oder Sie dürfen sie nicht sehen.")
    return await _show(request, principal, change)


async def decide(request: Request) -> Response:
    if not same_origin(request, get_settings()):
        return page("link_invalid.html", status=403, message="Das Formular kam nicht von dieser Seite.")
    form = await _form(request)
    change_id = _change_id(form.get("change"))
    principal = await _principal(request)
    if change_id is None or principal is None:
        return page("link_invalid.html", status=403, message="Bitte melden Sie sich erneut an.")
    if not hmac.compare_digest(form.get("csrf", ""), _csrf(principal, change_id)):
        return page("link_invalid.html", status=403, message="Das Formular ist abgelaufen; laden Sie die Seite neu.")
    try:
        if form.get("decision") == "approve":
            change = await approve(principal, change_id, form.get("comment") or None)
            message = "Freigegeben: die Änderung ist veröffentlicht."
        elif form.get("decision") == "reject":
            change = await reject(principal, change_id, form.get("reason", ""))
            message = "Abgelehnt: die Begründung geht an die einreichende Person."
        else:
            return page("link_invalid.html", status=400, message="Unbekannte Entscheidung.")
    except DomainError as exc:
        change = await ChangeRequest.get_or_none(id=change_id)
        if change is None:
            return page("link_invalid.html", status=404, message="Diese Änderung gibt es nicht.")
        return await _show(request, principal, change, message=_german(exc), ok=False, status=400)
    wake()
    return await _show(request, principal, change, message=message)

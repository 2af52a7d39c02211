"""The ministry's pages: the approvers' inbox (/review) and the admin console (/admin/...).

Every page runs its operation and then `_gate`: signed out → the sign-in page (with `next`),
start password → the activation steps, without a ministry role → 403. The API checks the
same rules again for every field, so a page can never show more than the API would.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from ikz.web.base import (Result, ascii_id, forbidden_form, form_data, getstr, not_found, redirect, render, run)
from ikz.web.messages import german, local_error

PAGE = 20
STAFF = ("ADMIN", "APPROVER")
CHANGE_KINDS = ("COOPERATION_CREATE", "COOPERATION_UPDATE", "CONTACT_UPDATE", "CONTACT_CONFIRMATION", "DOCUMENT_ADD")
CHANGE_STATUSES = ("PENDING", "APPROVED", "REJECTED", "CONFLICTING", "WITHDRAWN")


def _login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect("/login?" + urlencode({"next": target}))


def forbidden(request: Request) -> Response:
    return render(request, "message.html", status=403, title="Kein Zugriff", ok=False,
                  message="Diese Seite ist den Freigabeberechtigten und der Verwaltung des Ministeriums vorbehalten.")


def roles_of(me: dict | None) -> set[str]:
    return {r["role"] for r in (me or {}).get("roles") or []}


def _gate(request: Request, result: Result, roles: tuple[str, ...]) -> Response | None:
    """None when the page may be shown; else the redirect or the 403 page."""
    codes = {e.code for e in result.errors}
    if "ACTION_REQUIRED" in codes:
        return redirect("/me/activate")
    me = (result.data or {}).get("me") if isinstance(result.data, dict) else None
    if "UNAUTHENTICATED" in codes or (me is None and "FORBIDDEN" not in codes):
        return _login(request)
    if me is None or not roles_of(me) & set(roles):
        return forbidden(request)
    return None


async def staff_run(request: Request, name: str, variables: dict | None = None,
                    roles: tuple[str, ...] = STAFF) -> tuple[Result, Response | None]:
    result = await run(request, name, variables)
    return result, _gate(request, result, roles)


async def staff_form(request: Request, roles: tuple[str, ...] = STAFF) -> tuple[dict | None, Response | None]:
    """The POSTed form after the CSRF check and the role check (one small query for the header)."""
    form = await form_data(request)
    if form is None:
        return None, forbidden_form(request)
    header = await run(request, "staff-header")
    stop = _gate(request, header, roles)
    return (None, stop) if stop else (form, None)


def waiting_days(submitted_at: str | None) -> int:
    if not submitted_at:
        return 0
    try:
        moment = dt.datetime.fromisoformat(str(submitted_at))
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return max(0, (dt.datetime.now(dt.timezone.utc) - moment).days)


# --- approvers ---------------------------------------------------------------------------------

async def review_inbox(request: Request) -> Response:
    legacy = request.query_params.get("change")
    if legacy is not None:  # the links in older mails: /review?change=<id>
        clean = ascii_id(legacy)
        return redirect(f"/review/{clean}") if clean else not_found(request, "Diese Änderung gibt es nicht.")
    kind = request.query_params.get("kind", "")
    kind = kind if kind in CHANGE_KINDS else ""
    status = request.query_params.get("status", "PENDING")
    status = status if status in CHANGE_STATUSES or status == "ALL" else "PENDING"
    after = ascii_id(request.query_params.get("after"))
    statuses = list(CHANGE_STATUSES) if status == "ALL" else [status]
    variables = {"filter": {"statuses": statuses, "kinds": [kind] if kind else None},
                 "first": PAGE + 1, "after": after}
    result, stop = await staff_run(request, "review-inbox", variables)
    if stop:
        return stop
    rows = result.data["changes"]
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    for row in rows:
        row["waiting"] = waiting_days(row["submittedAt"])
    next_query = urlencode({"kind": kind, "status": status, "after": rows[-1]["id"]}) if more and rows else None
    return render(request, "review_inbox.html", rows=rows, kind=kind, status_filter=status, next_query=next_query,
                  first_page=after is None, kinds=CHANGE_KINDS, statuses=CHANGE_STATUSES)


async def review_change(request: Request) -> Response:
    change_id = ascii_id(request.path_params.get("id"))
    if change_id is None:
        return not_found(request, "Diese Änderung gibt es nicht.")
    if request.method == "POST":
        return await _decide(request, change_id)
    return await _show_change(request, change_id)


async def _show_change(request: Request, change_id: str, *, errors: list | None = None, field_errors=None,
                       values: dict | None = None, status: int = 200) -> Response:
    result, stop = await staff_run(request, "review-change", {"id": change_id})
    if stop:
        return stop
    change = (result.data or {}).get("change")
    if change is None:
        return not_found(request, "Diese Änderung gibt es nicht oder sie liegt außerhalb Ihres Freigabebereichs.")
    me = result.data["me"]
    can_decide = (change["status"] == "PENDING" and "APPROVER" in roles_of(me)
                  and (change["submitter"] or {}).get("id") != me["id"])
    next_id = next((c["id"] for c in result.data["next"] if c["id"] != change["id"]), None)
    note = None
    if change["status"] == "PENDING" and not can_decide:
        note = ("Ihre eigene Änderung können Sie nicht freigeben." if "APPROVER" in roles_of(me)
                else "Nur Freigabeberechtigte können Änderungen freigeben.")
    done = {"approved": "Freigegeben: die Änderung ist veröffentlicht.",
            "rejected": "Abgelehnt: die Begründung geht an die einreichende Person."}.get(
        request.query_params.get("done", ""))
    return render(request, "review.html", status=status, change=change, can_decide=can_decide, note=note,
                  next_id=next_id, done=done, errors=errors or [], field_errors=field_errors or {},
                  values=values or {}, waiting=waiting_days(change["submittedAt"]))


async def _decide(request: Request, change_id: str) -> Response:
    form, stop = await staff_form(request, ("APPROVER",))
    if stop:
        return stop
    decision = getstr(form, "decision", 20)
    if decision == "approve":
        comment = getstr(form, "comment", 2000) or None
        result = await run(request, "approve-change", {"id": change_id, "comment": comment})
        done = "approved"
    elif decision == "reject":
        reason = getstr(form, "reason", 2000)
        if not reason:
            error = local_error("reason", "Bitte geben Sie eine Begründung an; sie geht an die einreichende Person.")
            return await _show_change(request, change_id, errors=[error], field_errors={"reason": error.message},
                                      status=400)
        result = await run(request, "reject-change", {"id": change_id, "reason": reason})
        done = "rejected"
    else:
        return render(request, "message.html", status=400, title="Unbekannte Entscheidung", ok=False,
                      message="Bitte wählen Sie Freigeben oder Ablehnen.")
    if result.ok:
        return result.apply(redirect(f"/review/{change_id}?done={done}"))
    if result.code() == "UNAUTHENTICATED":
        return _login(request)
    messages = {"FORBIDDEN": "Das dürfen Sie nicht: die Änderung liegt außerhalb Ihres Freigabebereichs oder ist Ihre eigene.",
                "CONFLICT": "Die Änderung ist nicht mehr offen oder der Datensatz wurde inzwischen geändert.",
                "NOT_FOUND": "Diese Änderung gibt es nicht."}
    error = local_error(None, messages.get(result.code()) or german(result.errors[0]))
    return await _show_change(request, change_id, errors=[error], status=409 if result.code() == "CONFLICT" else 400)

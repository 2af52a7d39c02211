"""Downloads: /documents/<id>/<file name>, streamed from the document storage.

Which document a visitor may have is the schema's answer (`document(id)`, through the page's
operation, with the visitor's session): published ones for everyone; proposed, rejected and
withdrawn ones only for admins, approvers in scope and the submitter (so the review page can
link them). Everything else is the same German 404 as an unknown id.

Always `Content-Disposition: attachment` (RFC 6266, `filename*` in UTF-8 beside an ASCII
fallback) and `X-Content-Type-Options: nosniff` with the type recognised from the content, so a
browser never renders an upload as a page of this site. The ETag is the content's SHA-256.
"""

from __future__ import annotations

import asyncio
import unicodedata
from urllib.parse import quote

import hmac
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from service.accounts.secrets import keyed_hash
from service.documents.intake import megabytes
from service.documents.models import KIND_LABELS
from service.documents.storage import CHUNK, get_storage
from ikz.web.base import (SECURITY_HEADERS, _csrf_secret, app_settings, ascii_id, forbidden_form, form_data, getstr,
                          not_found, redirect, render, run, same_origin)
from ikz.web.messages import form_errors, local_error
from schema.documents.types import download_path
from schema.http import BodyTooLarge, _bounded, multipart_limit

NOT_FOUND = "Dieses Dokument gibt es nicht oder es ist nicht öffentlich."


def content_disposition(file_name: str) -> str:
    fallback = unicodedata.normalize("NFKD", file_name).encode("ascii", "ignore").decode()
    fallback = "".join(c if c.isalnum() or c in " .-_()" else "_" for c in fallback).strip() or "dokument"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


async def _chunks(handle):
    try:
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            yield chunk
    finally:
        handle.close()


async def download(request: Request) -> Response:
    document_id = ascii_id(request.path_params["id"])
    if document_id is None:
        return not_found(request, NOT_FOUND)
    result = await run(request, "document-download", {"id": document_id})
    document = (result.data or {}).get("document") if result.ok else None
    if not document:
        return not_found(request, NOT_FOUND)
    canonical = download_path(int(document["id"]), document["fileName"])
    if request.path_params["name"] != document["fileName"]:
        return RedirectResponse(canonical, status_code=308, headers=SECURITY_HEADERS)
    public = document["state"] == "PUBLISHED"
    etag = f'"{document["sha256"]}"'
    headers = {
        **SECURITY_HEADERS,
        "Content-Security-Policy": "default-src 'none'; sandbox",
        # Published: any cache may keep it but must ask again (a withdrawal takes effect at once).
        "Cache-Control": "public, no-cache" if public else "private, no-store",
        "Content-Disposition": content_disposition(document["fileName"]),
        "ETag": etag,
    }
    if public and etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    try:
        handle = await asyncio.to_thread(get_storage().open, document["sha256"])
    except FileNotFoundError:
        return not_found(request, NOT_FOUND)
    headers["Content-Length"] = str(document["size"])
    return StreamingResponse(_chunks(handle), media_type=document["contentType"], headers=headers)


# --- attaching (ministry) and proposing (contact persons) ----------------------------------------

FIELDS = {"title", "kind", "date", "file"}
KINDS = [(k.value, label) for k, label in KIND_LABELS.items()]
TOO_LARGE = object()


async def _upload_form(request: Request):
    """The multipart form after the origin and CSRF checks, its body bounded while it is read.

    None: refused (CSRF/origin); TOO_LARGE: the body went past the limit (nothing kept)."""
    settings = app_settings(request)
    limit = multipart_limit(settings)
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        return TOO_LARGE
    if not same_origin(request, settings):
        return None
    bounded = Request(request.scope, receive=_bounded(request.receive, limit))
    try:
        form = await bounded.form(max_files=1, max_fields=10)
    except BodyTooLarge:
        return TOO_LARGE
    secret = _csrf_secret(request)
    sent = form.get("csrf")
    if secret is None or not isinstance(sent, str) or not hmac.compare_digest(sent, keyed_hash(secret, "csrf-form")[:40]):
        await form.close()
        return None
    return form


def _date(value: str) -> str | None:
    """A date typed as TT.MM.JJJJ or sent by a date field as JJJJ-MM-TT; None if empty; '' if unreadable."""
    import datetime as dt

    value = value.strip()
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(value, pattern).date().isoformat()
        except ValueError:
            continue
    return ""


async def _page_data(request: Request, cid: str):
    result = await run(request, "cooperation-documents", {"id": cid})
    return result, (result.data or {})


def _login(request: Request) -> Response:
    return redirect("/login?" + urlencode({"next": request.url.path}))


def _gate(request: Request, data: dict, staff: bool) -> Response | None:
    me = data.get("me")
    if me is None:
        return _login(request)
    if me["requiredActions"]:
        return redirect("/me/activate")
    roles = {r["role"] for r in me.get("roles") or []}
    if staff and not roles & {"ADMIN", "APPROVER"}:
        return render(request, "message.html", status=403, title="Kein Zugriff", ok=False,
                      message="Diese Seite ist den Freigabeberechtigten und der Verwaltung des Ministeriums vorbehalten.")
    if not staff:
        own = ((me.get("contact") or {}).get("municipality") or {}).get("id")
        partners = {p["organization"]["id"] for p in (data.get("cooperation") or {}).get("partners", [])}
        if own is None or (data.get("cooperation") and own not in partners):
            return render(request, "message.html", status=403, title="Kein Zugriff", ok=False,
                          message="Dokumente vorschlagen können Ansprechpersonen der beteiligten Kommunen.")
    if data.get("cooperation") is None:
        return not_found(request, "Diese Kooperation gibt es nicht.")
    return None


async def _documents_page(request: Request, staff: bool) -> Response:
    cid = ascii_id(request.path_params["id"])
    if cid is None:
        return not_found(request, "Diese Kooperation gibt es nicht.")
    result, data = await _page_data(request, cid)
    stop = _gate(request, data, staff)
    if stop:
        return stop
    base = f"/cooperations/{cid}/documents" if staff else f"/me/cooperations/{cid}/documents"
    values, errors, status = {"title": "", "kind": "STATUTE", "date": ""}, [], 200
    if request.method == "POST":
        content_type = request.headers.get("content-type", "")
        if staff and not content_type.startswith("multipart/form-data"):
            form = await form_data(request)
            if form is None:
                return forbidden_form(request)
            done = await run(request, "document-withdraw", {"id": ascii_id(getstr(form, "document", 12)) or "0"})
            if done.ok:
                return redirect(f"{base}?done=withdrawn")
            errors, status = [local_error(None, "Das Dokument konnte nicht zurückgezogen werden "
                                                "(schon zurückgezogen oder außerhalb Ihres Bereichs).")], 409
        else:
            form = await _upload_form(request)
            if form is None:
                return forbidden_form(request)
            limit = megabytes(app_settings(request).document_max_bytes)
            if form is TOO_LARGE:
                errors, status = [local_error("file", f"Die Datei ist größer als {limit} MB.")], 413
            else:
                try:
                    values = {k: (form.get(k) if isinstance(form.get(k), str) else "")[:300] for k in ("title", "kind", "date")}
                    upload = form.get("file")
                    date = _date(values["date"])
                    if date == "":
                        errors.append(local_error("date", "Bitte geben Sie das Datum als TT.MM.JJJJ an."))
                    if values["kind"] not in KIND_LABELS:
                        errors.append(local_error("kind", "Bitte wählen Sie die Art des Dokuments."))
                    if upload is None or isinstance(upload, str) or not upload.filename:
                        errors.append(local_error("file", "Bitte wählen Sie eine Datei."))
                    if not values["title"].strip():
                        errors.append(local_error("title", "Bitte geben Sie einen Titel an."))
                    if not errors:
                        done = await run(request, "document-attach" if staff else "document-propose", {
                            "cooperationId": cid, "file": upload,
                            "input": {"title": values["title"], "kind": values["kind"], "date": date}})
                        if done.ok:
                            return redirect(f"{base}?done={'attached' if staff else 'proposed'}")
                        errors = done.errors
                    status = 400
                finally:
                    await form.close()
        result, data = await _page_data(request, cid)
    summary, per_field = form_errors(errors, FIELDS)
    done = {"attached": "Das Dokument ist veröffentlicht.", "withdrawn": "Das Dokument ist zurückgezogen.",
            "proposed": "Ihr Vorschlag ist eingereicht; das Dokument wird nach der Freigabe veröffentlicht."
            }.get(request.query_params.get("done", ""))
    return render(request, "documents.html", status=status, coop=data["cooperation"], staff=staff, action=base,
                  values=values, errors=summary, field_errors=per_field, kinds=KINDS, done=done,
                  limit=megabytes(app_settings(request).document_max_bytes))


async def manage(request: Request) -> Response:
    """/cooperations/<id>/documents: the ministry attaches and withdraws documents."""
    return await _documents_page(request, staff=True)


async def propose(request: Request) -> Response:
    """/me/cooperations/<id>/documents: a contact person proposes a document."""
    return await _documents_page(request, staff=False)

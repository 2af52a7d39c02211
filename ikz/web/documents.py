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

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from service.documents.storage import CHUNK, get_storage
from ikz.web.base import SECURITY_HEADERS, ascii_id, not_found, run
from schema.documents.types import download_path

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

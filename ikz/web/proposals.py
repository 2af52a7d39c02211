"""Contact persons propose changes: to a cooperation of their municipality, or a new cooperation.

The form covers CooperationInput. For a change only the fields that differ from the published
state are sent (a proposal names only what changes).
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from ikz.web.base import ascii_id, forbidden_form, form_data, getlist, getstr, not_found, redirect, render, run
from ikz.web.messages import LABELS, form_errors, local_error

TEXT_FIELDS = ("title", "description", "legalFormText", "partnersText", "sinceText", "funding", "notes",
               "sourceDocument", "sourceReference")
STATUSES = ("ACTIVE", "PLANNED", "ENDED", "NOT_REALIZED")
PERFORMER_KINDS = ("JOINT", "PARTNER", "THIRD_PARTY", "UNKNOWN")
PERIODS = (("", "–"), ("YEAR", "pro Jahr"), ("MONTH", "pro Monat"), ("ONCE", "einmalig"))
KNOWN = set(LABELS) | {"partnerLead"}


def values_of(coop: dict | None, own_org: str | None) -> dict:
    """The form's values for a published cooperation (or a blank one with the own municipality)."""
    if coop is None:
        return {**{k: "" for k in TEXT_FIELDS}, "topicFieldIds": [], "legalForm": "", "partners": [own_org] if own_org else [],
                "partnerLead": own_org or "", "performedByKind": "JOINT", "performedByOrganization": "",
                "performedByText": "", "startYear": "", "endYear": "", "status": "ACTIVE", "savingsAmount": "",
                "savingsCurrency": "EUR", "savingsPeriod": "", "savingsText": "", "dataAsOf": "", "partOfId": ""}
    savings = coop.get("savings") or {}
    performer = coop.get("performedBy") or {}
    lead = [p["organization"]["id"] for p in coop["partners"] if p["role"] == "LEAD"]
    return {
        **{k: coop.get(k) or "" for k in TEXT_FIELDS},
        "topicFieldIds": [t["id"] for t in coop["topicFields"]],
        "legalForm": (coop.get("legalForm") or {}).get("code", ""),
        "partners": [p["organization"]["id"] for p in coop["partners"]],
        "partnerLead": lead[0] if lead else "",
        "performedByKind": performer.get("kind") or "UNKNOWN",
        "performedByOrganization": (performer.get("organization") or {}).get("id", ""),
        "performedByText": performer.get("text") or "",
        "startYear": str(coop["startYear"]) if coop.get("startYear") else "",
        "endYear": str(coop["endYear"]) if coop.get("endYear") else "",
        "status": coop["status"],
        "savingsAmount": str(savings.get("amount") or ""), "savingsCurrency": savings.get("currency") or "",
        "savingsPeriod": savings.get("period") or "", "savingsText": savings.get("text") or "",
        "dataAsOf": coop.get("dataAsOf") or "",
        "partOfId": (coop.get("partOf") or {}).get("id", ""),
    }


def values_from_form(form: dict) -> dict:
    values = {k: getstr(form, k, 5000) for k in TEXT_FIELDS}
    values.update({
        "topicFieldIds": [v for v in (ascii_id(x) for x in getlist(form, "topicFieldIds")) if v],
        "legalForm": getstr(form, "legalForm", 40),
        "partners": [v for v in (ascii_id(x) for x in getlist(form, "partners")) if v],
        "partnerLead": ascii_id(getstr(form, "partnerLead", 12)) or "",
        "performedByKind": getstr(form, "performedByKind", 20),
        "performedByOrganization": ascii_id(getstr(form, "performedByOrganization", 12)) or "",
        "performedByText": getstr(form, "performedByText", 500),
        "startYear": getstr(form, "startYear", 4), "endYear": getstr(form, "endYear", 4),
        "status": getstr(form, "status", 20),
        "savingsAmount": getstr(form, "savingsAmount", 20), "savingsCurrency": getstr(form, "savingsCurrency", 3),
        "savingsPeriod": getstr(form, "savingsPeriod", 5), "savingsText": getstr(form, "savingsText", 500),
        "dataAsOf": getstr(form, "dataAsOf", 10),
        "partOfId": ascii_id(getstr(form, "partOfId", 12)) or "",
    })
    return values


def to_input(values: dict) -> tuple[dict, list]:
    """CooperationInput from the form's values, and local errors for what cannot be sent at all."""
    errors = []
    data: dict = {k: (values[k] or None) for k in TEXT_FIELDS}
    data["topicFieldIds"] = values["topicFieldIds"]
    data["legalForm"] = values["legalForm"] or None
    data["partners"] = [{"organizationId": p, "role": "LEAD" if p == values["partnerLead"] else "PARTNER"}
                        for p in values["partners"]]
    kind = values["performedByKind"] if values["performedByKind"] in PERFORMER_KINDS else "UNKNOWN"
    data["performedBy"] = {"kind": kind, "organizationId": values["performedByOrganization"] or None
                           if kind in ("PARTNER", "THIRD_PARTY") else None, "text": values["performedByText"] or None}
    for key in ("startYear", "endYear"):
        text = values[key]
        if text and not (text.isascii() and text.isdigit() and len(text) == 4):
            errors.append(local_error(key, f"Bitte geben Sie bei „{LABELS[key]}“ eine Jahreszahl mit vier Ziffern an."))
        data[key] = int(text) if text and text.isascii() and text.isdigit() else None
    data["status"] = values["status"] if values["status"] in STATUSES else "ACTIVE"
    amount = values["savingsAmount"].replace(".", "").replace(",", ".") if "," in values["savingsAmount"] else values["savingsAmount"]
    if amount:
        try:
            float(amount)
        except ValueError:
            errors.append(local_error("savingsAmount", "Bitte geben Sie die Einsparung als Betrag an, z. B. 15000."))
            amount = ""
    if amount or values["savingsText"]:
        data["savings"] = {"amount": amount or None, "currency": values["savingsCurrency"] or None,
                           "period": values["savingsPeriod"] or None, "text": values["savingsText"] or None}
    else:
        data["savings"] = None
    if values["dataAsOf"]:
        data["dataAsOf"] = values["dataAsOf"]
    data["partOfId"] = values["partOfId"] or None
    if not values["title"]:
        errors.append(local_error("title", "Bitte geben Sie die Aufgabe (Titel) an."))
    if not values["partners"]:
        errors.append(local_error("partners", "Bitte wählen Sie mindestens einen Partner."))
    return data, errors


def changed_only(data: dict, published: dict) -> dict:
    """The fields that differ from the published cooperation."""
    before, _ = to_input(published)
    return {k: v for k, v in data.items() if before.get(k) != v}


async def _form_page(request: Request, cid: str | None):
    result = await run(request, "proposal-form", {"id": cid or "0", "withCooperation": cid is not None})
    data = result.data or {}
    me = data.get("me")
    if me is None:
        return None, redirect("/login?" + urlencode({"next": request.url.path}))
    if me["requiredActions"]:
        return None, redirect("/me/activate")
    if me.get("contact") is None:
        return None, render(request, "message.html", status=403, title="Nur für Ansprechpersonen", ok=False,
                            message="Vorschläge können Ansprechpersonen der Kommunen einreichen.")
    if cid is not None and data.get("cooperation") is None:
        return None, not_found(request, "Diese Kooperation gibt es nicht.")
    return data, None


def _choices(data: dict, values: dict) -> dict:
    orgs = {e["node"]["id"]: e["node"]["name"] for e in data["municipalities"]["edges"]}
    coop = data.get("cooperation")
    for p in (coop or {}).get("partners", []):
        orgs.setdefault(p["organization"]["id"], p["organization"]["name"])
    chosen = [(i, orgs.get(i, f"Organisation {i}")) for i in values["partners"]]
    others = sorted(((i, n) for i, n in orgs.items() if i not in values["partners"]), key=lambda x: x[1])
    own = ((data["me"].get("contact") or {}).get("municipality") or {}).get("cooperations") or {"edges": []}
    frameworks = [(e["node"]["id"], e["node"]["title"]) for e in own["edges"] if e["node"]["id"] != (coop or {}).get("id")]
    if values.get("partOfId") and values["partOfId"] not in {i for i, _ in frameworks}:
        frameworks.insert(0, (values["partOfId"], f"Kooperation {values['partOfId']}"))
    return {"topic_fields": data["topicFields"], "legal_forms": data["legalForms"], "partner_choices": chosen + others,
            "frameworks": frameworks,
            "statuses": STATUSES, "performer_kinds": PERFORMER_KINDS, "periods": PERIODS}


async def propose_change(request: Request) -> Response:
    cid = ascii_id(request.path_params["id"])
    if cid is None:
        return not_found(request, "Diese Kooperation gibt es nicht.")
    data, stop = await _form_page(request, cid)
    if stop:
        return stop
    coop = data["cooperation"]
    published = values_of(coop, None)
    if request.method == "GET":
        return render(request, "proposal.html", me=data["me"], coop=coop, values=published, errors=[], field_errors={},
                      version=coop["version"], **_choices(data, published))
    form = await form_data(request)
    if form is None:
        return forbidden_form(request)
    values = values_from_form(form)
    payload, errors = to_input(values)
    if not errors:
        changes = changed_only(payload, published)
        if not changes:
            errors = [local_error(None, "Sie haben nichts geändert.")]
        else:
            version = getstr(form, "baseVersion", 12)
            result = await run(request, "propose-change", {"cooperationId": cid, "input": changes,
                                                           "baseVersion": int(version) if version.isascii() and version.isdigit() else coop["version"]})
            if result.ok:
                return redirect("/me?done=proposed")
            errors = result.errors
    summary, per_field = form_errors(errors, KNOWN)
    return render(request, "proposal.html", status=400, me=data["me"], coop=coop, values=values, errors=summary,
                  field_errors=per_field, version=coop["version"], **_choices(data, values))


async def propose_new(request: Request) -> Response:
    data, stop = await _form_page(request, None)
    if stop:
        return stop
    own = (data["me"]["contact"].get("municipality") or {}).get("id")
    blank = values_of(None, own)
    if request.method == "GET":
        return render(request, "proposal.html", me=data["me"], coop=None, values=blank, errors=[], field_errors={},
                      version=None, **_choices(data, blank))
    form = await form_data(request)
    if form is None:
        return forbidden_form(request)
    values = values_from_form(form)
    payload, errors = to_input(values)
    if not errors:
        result = await run(request, "propose-new", {"input": payload})
        if result.ok:
            return redirect("/me?done=proposed")
        errors = result.errors
    summary, per_field = form_errors(errors, KNOWN)
    return render(request, "proposal.html", status=400, me=data["me"], coop=None, values=values, errors=summary,
                  field_errors=per_field, version=None, **_choices(data, values))

"""The public pages: search (/), a cooperation's profile, municipal bodies."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from ikz.web import partner_map
from ikz.web.base import ascii_id, not_found, render, run

PAGE_SIZE = 20
ORDERS = {
    "title": ("TITLE", "ASC", "Titel (A–Z)"),
    "title-desc": ("TITLE", "DESC", "Titel (Z–A)"),
    "year": ("START_YEAR", "ASC", "Beginn (älteste zuerst)"),
    "year-desc": ("START_YEAR", "DESC", "Beginn (neueste zuerst)"),
}
STATUSES = ("PLANNED", "ACTIVE", "ENDED", "NOT_REALIZED")
MAX_VALUES = 50


def _ids(request: Request, name: str) -> list[str]:
    values = []
    for value in request.query_params.getlist(name)[:MAX_VALUES]:
        clean = ascii_id(value.strip())
        if clean and clean not in values:
            values.append(clean)
    return values


def _codes(request: Request, name: str, allowed: tuple[str, ...] | None = None) -> list[str]:
    values = []
    for value in request.query_params.getlist(name)[:MAX_VALUES]:
        value = value.strip()
        if value and len(value) <= 40 and value.replace("_", "").isascii() and value.replace("_", "").isalnum() \
                and (allowed is None or value in allowed) and value not in values:
            values.append(value)
    return values


def _year(value: str | None) -> int | None:
    value = (value or "").strip()
    if value.isascii() and value.isdigit() and len(value) == 4:
        return int(value)
    return None


def search_state(request: Request) -> dict:
    """The page's state as read from the query string (unknown or malformed values are dropped)."""
    params = request.query_params
    order = params.get("sort", "title")
    if order not in ORDERS:
        order = "title"
    after = params.get("after", "")
    return {
        "q": params.get("q", "").strip()[:200],
        "topic": _ids(request, "topic"),
        "legal": _codes(request, "legal"),
        "status": _codes(request, "status", STATUSES),
        "partner": _ids(request, "partner"),
        "region": _ids(request, "region"),
        "from": _year(params.get("from")),
        "to": _year(params.get("to")),
        "sort": order,
        "after": after if after and len(after) < 500 and after.isascii() else None,
    }


def search_variables(state: dict) -> dict:
    flt: dict = {}
    if state["topic"]:
        flt["topicFieldIds"] = state["topic"]
    if state["legal"]:
        flt["legalForms"] = state["legal"]
    if state["status"]:
        flt["statuses"] = state["status"]
    if state["partner"]:
        flt["partnerIds"] = state["partner"]
    if state["region"]:
        flt["regionIds"] = state["region"]
    if state["from"] is not None:
        flt["startYearFrom"] = state["from"]
    if state["to"] is not None:
        flt["startYearTo"] = state["to"]
    field, direction, _ = ORDERS[state["sort"]]
    return {"filter": flt or None, "search": state["q"] or None, "orderBy": {"field": field, "direction": direction},
            "first": PAGE_SIZE, "after": state["after"]}


def query_string(state: dict, **changes) -> str:
    merged = {**state, **changes}
    pairs = []
    if merged["q"]:
        pairs.append(("q", merged["q"]))
    for key in ("topic", "legal", "status", "partner", "region"):
        pairs.extend((key, v) for v in merged[key])
    if merged["from"] is not None:
        pairs.append(("from", str(merged["from"])))
    if merged["to"] is not None:
        pairs.append(("to", str(merged["to"])))
    if merged["sort"] != "title":
        pairs.append(("sort", merged["sort"]))
    if merged.get("after"):
        pairs.append(("after", merged["after"]))
    return urlencode(pairs)


async def search(request: Request) -> Response:
    state = search_state(request)
    result = await run(request, "search", search_variables(state))
    if not result.ok and result.data is None and state["after"]:
        # A cursor of another ordering or a stale one: start from the first page.
        state["after"] = None
        result = await run(request, "search", search_variables(state))
    errors = []
    if not result.ok:
        errors = ["Die Suche konnte so nicht ausgeführt werden. Bitte prüfen Sie Suchbegriff und Filter."]
    data = result.data or {}
    connection = data.get("cooperations") or {"totalCount": 0, "edges": [], "pageInfo": {}, "facets": None}
    next_url = None
    if (connection.get("pageInfo") or {}).get("hasNextPage"):
        next_url = "/?" + query_string(state, after=connection["pageInfo"]["endCursor"])
    first_url = "/?" + query_string(state, after=None) if state["after"] else None
    return render(request, "search.html", status=400 if errors else 200, public=True, state=state,
                  connection=connection, facets=connection.get("facets"), errors=errors,
                  orders=[(k, v[2]) for k, v in ORDERS.items()], next_url=next_url, first_url=first_url,
                  statuses=STATUSES, list_query=query_string(state, after=None), reset_url="/")


async def cooperation(request: Request) -> Response:
    cid = ascii_id(request.path_params["id"])
    if cid is None:
        return not_found(request, "Diese Kooperation gibt es nicht.")
    result = await run(request, "cooperation", {"id": cid})
    coop = (result.data or {}).get("cooperation")
    if coop is None:
        return not_found(request, "Diese Kooperation gibt es nicht (mehr).")
    partners = coop.get("partners") or []
    return render(request, "cooperation.html", public=True, coop=coop, partner_map=partner_map.build(partners),
                  places=[partner_map.place_text(p["organization"].get("location")) for p in partners])


async def municipalities(request: Request) -> Response:
    search_text = request.query_params.get("q", "").strip()[:200]
    after = request.query_params.get("after") or None
    if after and (len(after) > 500 or not after.isascii()):
        after = None
    result = await run(request, "municipalities", {"search": search_text or None, "first": 100, "after": after})
    data = (result.data or {}).get("municipalities") or {"edges": [], "totalCount": 0, "pageInfo": {}}
    groups: dict[str, dict] = {}
    for edge in data["edges"]:
        node = edge["node"]
        state_name, district = _region_of(node)
        group = groups.setdefault(state_name, {"name": state_name, "districts": {}})
        group["districts"].setdefault(district, []).append(node)
    next_url = None
    if (data.get("pageInfo") or {}).get("hasNextPage"):
        next_url = "/municipalities?" + urlencode([(k, v) for k, v in (("q", search_text),
                                                   ("after", data["pageInfo"]["endCursor"])) if v])
    return render(request, "municipalities.html", public=True, q=search_text, groups=list(groups.values()),
                  total=data["totalCount"], next_url=next_url)


def _region_of(node: dict) -> tuple[str, str]:
    """(state, district) headings for a body; states and districts head their own groups."""
    parent = node.get("parent")
    if node["kind"] == "STATE":
        return node["name"], ""
    if node["kind"] == "DISTRICT" or parent is None:
        return (parent["name"] if parent else "ohne Land"), node["name"] if node["kind"] == "DISTRICT" else ""
    if parent["kind"] == "STATE":
        return parent["name"], ""
    grand = parent.get("parent")
    return (grand["name"] if grand else "ohne Land"), parent["name"]


async def municipality(request: Request) -> Response:
    mid = ascii_id(request.path_params["id"])
    if mid is None:
        return not_found(request, "Diese Kommune gibt es nicht.")
    after = request.query_params.get("after") or None
    if after and (len(after) > 500 or not after.isascii()):
        after = None
    result = await run(request, "municipality", {"id": mid, "after": after})
    if result.data is None and after:
        result = await run(request, "municipality", {"id": mid, "after": None})
    org = (result.data or {}).get("organization")
    if org is None:
        return not_found(request, "Diese Kommune oder Organisation gibt es nicht.")
    next_url = None
    coops = org.get("cooperations")
    if coops and coops["pageInfo"]["hasNextPage"]:
        next_url = f"/municipalities/{org['id']}?" + urlencode({"after": coops["pageInfo"]["endCursor"]})
    return render(request, "municipality.html", public=True, org=org, next_url=next_url, paged=bool(after),
                  place=partner_map.place_text(org.get("location")))

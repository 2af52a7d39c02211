"""Partners, topic fields and public contacts of a page of cooperations, in the page's own statement.

Each list of the page comes back as one JSON (or comma-separated) column computed per
row by a correlated subquery over the page's rows only. One statement instead of four:
on a page of 50 this halved the data time of the list request (bench/catalogue.py).
SQLite and PostgreSQL need different aggregate syntax; the results are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from service.catalogue.models import PartnerRole
from service.catalogue.views import ContactView, CooperationView, OrganizationView, PartnerView, as_datetime
from service.catalogue.models import ContactState, OrganizationKind

PUBLIC = "'PUBLIC'"  # a constant in the SQL (see contacts.PUBLIC_ONLY)


@dataclass(frozen=True)
class Details:
    partners: bool = False
    topic_fields: bool = False
    contacts: bool = False

    @property
    def any(self) -> bool:
        return self.partners or self.topic_fields or self.contacts


ALL = Details(True, True, True)
NONE = Details()

_PARTNER_FIELDS = "p.role, o.id, o.name, o.kind, o.ags, o.parent_id, p.left_year, o.latitude, o.longitude"
_PARTNER_FROM = "FROM cooperation_partner p JOIN organization o ON o.id = p.organization_id WHERE p.cooperation_id = {ref}.id"
_CONTACT_FIELDS = ("k.id, k.organization_id, k.salutation, k.title, k.first_name, k.last_name, k.function, k.email, "
                   "k.phone, k.last_approved_change_at")
_CONTACT_FROM = (f"FROM contact_cooperation cc JOIN contact k ON k.id = cc.contact_id "
                 f"WHERE cc.cooperation_id = {{ref}}.id AND k.state = {PUBLIC}")
_TOPIC_FROM = ("FROM cooperation_topic_field x JOIN topic_field t ON t.id = x.topic_field_id "
               "WHERE x.cooperation_id = {ref}.id")


def columns(dialect: str, details: Details, ref: str) -> str:
    """Extra SELECT columns (each with a leading comma) for the rows of alias `ref`."""
    parts = []
    if dialect == "postgres":
        if details.partners:
            parts.append(f"(SELECT json_agg(json_build_array({_PARTNER_FIELDS}) ORDER BY p.position, p.id) "
                         f"{_PARTNER_FROM.format(ref=ref)}) AS partners_json")
        if details.topic_fields:
            parts.append(f"(SELECT string_agg(x.topic_field_id::text, ',' ORDER BY t.position) "
                         f"{_TOPIC_FROM.format(ref=ref)}) AS topic_ids")
        if details.contacts:
            parts.append(f"(SELECT json_agg(json_build_array({_CONTACT_FIELDS}) "
                         f"ORDER BY k.last_name COLLATE \"C\", k.first_name COLLATE \"C\", k.id) "
                         f"{_CONTACT_FROM.format(ref=ref)}) AS contacts_json")
    else:
        # SQLite before 3.44 has no ORDER BY inside aggregates; it aggregates in the ordered subquery's order.
        if details.partners:
            parts.append(f"(SELECT json_group_array(json_array(q.role, q.id, q.name, q.kind, q.ags, q.parent_id, q.left_year, q.latitude, q.longitude)) "
                         f"FROM (SELECT {_PARTNER_FIELDS} {_PARTNER_FROM.format(ref=ref)} "
                         "ORDER BY p.position, p.id) q) AS partners_json")
        if details.topic_fields:
            parts.append(f"(SELECT group_concat(q.topic_field_id) FROM (SELECT x.topic_field_id "
                         f"{_TOPIC_FROM.format(ref=ref)} ORDER BY t.position) q) AS topic_ids")
        if details.contacts:
            parts.append("(SELECT json_group_array(json_array(q.id, q.organization_id, q.salutation, q.title, "
                         "q.first_name, q.last_name, q.function, q.email, q.phone, q.last_approved_change_at)) "
                         f"FROM (SELECT {_CONTACT_FIELDS} {_CONTACT_FROM.format(ref=ref)} "
                         "ORDER BY k.last_name, k.first_name, k.id) q) AS contacts_json")
    return "".join(f", {p}" for p in parts)


def _json(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, (str, bytes)):
        return orjson.loads(value)
    return value


# Dict lookups instead of Enum(value): calling an Enum class was 7 % of a list request (py-spy).
_ROLES = {r.value: r for r in PartnerRole}
_KINDS = {k.value: k for k in OrganizationKind}


def fill(view: CooperationView, row: dict[str, Any], details: Details) -> CooperationView:
    if details.partners:
        roles, kinds = _ROLES, _KINDS
        view.partners = [
            PartnerView(
                role=roles[role],
                organization=OrganizationView(id=oid, name=name, kind=kinds[kind], ags=ags, parent_id=parent,
                                              latitude=lat, longitude=lon),
                left_year=left_year,
            )
            for role, oid, name, kind, ags, parent, left_year, lat, lon in _json(row["partners_json"])
        ]
    if details.topic_fields:
        ids = row["topic_ids"]
        view.topic_field_ids = [int(t) for t in str(ids).split(",")] if ids else []
    if details.contacts:
        view.contacts = [
            ContactView(id=c[0], organization_id=c[1], salutation=c[2], title=c[3], first_name=c[4], last_name=c[5],
                        function=c[6], email=c[7], phone=c[8], state=ContactState.PUBLIC,
                        last_approved_change_at=as_datetime(c[9]))
            for c in _json(row["contacts_json"])
        ]
    return view

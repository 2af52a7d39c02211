"""SQL statements per request do not grow with any list of the schema (no N+1 anywhere).

The schema is walked (tests/schema_walk.py): every field returning a list or a connection, on Query
and every type reachable from it, needs a probe here. A probe is one query that selects everything
below the list (scalars, nested objects and lists, within the cost, depth and token limits), run as
an account allowed to see it, once with the list holding few rows and once with many. Both runs must
send the same number of SQL statements (within SHAPE_SLACK, see there), and the list must really have grown (so a probe cannot pass
on an empty list). Root fields with a `first` argument are probed generically (first: 2 / first: 20
over the rows the world below creates); every other list has an explicit probe, with the reason when
it cannot hold 2 and 20 rows. A new list field without a probe fails the test.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Callable

import pytest
from tortoise.transactions import in_transaction

from schema.build import default_schema
from service.catalogue.models import OrganizationKind
from service.catalogue.organizations import create_organization
from service.sql import fetch
from tests.schema_walk import fitted, list_fields, selection

SCHEMA = default_schema._schema
SMALL, LARGE = 2, 20
# DataLoaders batch what is asked for in the same turn of the event loop; whether two levels of a
# query that ask for the same rows (the cooperations of a contact and, deeper, of its municipality)
# share one batch or take two depends on which rows are already cached, so a count may move by one
# statement either way (measured: 2 of 28 probes), by two when it happens at two levels (measured once
# in a full PostgreSQL run: ContactRecord.cooperations 31 statements at 2 rows, 29 at 20; 31 and 31 in
# the runs before and after). An N+1 grows by 18 between the sizes, so the slack hides none.
SHAPE_SLACK = 2


def _get(data, path: str):
    for part in path.split("."):
        data = data[int(part)] if part.isdigit() else data[part]
    return data


@dataclass
class Probe:
    """`template` holds `{sel:Type}` where the full selection of Type goes; `length` reads the list."""
    template: str
    variables: dict
    headers: dict
    length: Callable[[dict], int]


@dataclass
class Scenario:
    probe: Callable[["World", int], Probe]
    sizes: tuple[int, int] = (SMALL, LARGE)  # the list's length at the world's small and large stage
    reason: str = ""  # why the sizes differ from 2 and 20


def at(path: str) -> Callable[[dict], int]:
    return lambda data: len(_get(data, path))


def render(template: str, depth: int) -> str:
    """`{sel:Type}` → the full selection of Type; `{sel:Type:A:B}` leaves out objects of type A and enters
    B only once more (B counts as seen: no parent below a body)."""
    return re.sub(r"\{sel:(\w+)(?::(\w*))?(?::(\w+))?\}",
                  lambda m: selection(SCHEMA, m.group(1), depth, tuple(filter(None, [m.group(3)])),
                                      excluded=frozenset(filter(None, [m.group(2)]))), template)


COOPERATION_INPUT = """mutation($i: CooperationInput!) { createCooperation(input: $i) { id version } }"""
UPDATE_COOPERATION = """mutation($id: ID!, $i: CooperationInput!, $v: Int!) {
  updateCooperation(id: $id, input: $i, baseVersion: $v) { id version } }"""
PROPOSE = """mutation($id: ID!, $i: CooperationInput!, $v: Int!) {
  proposeCooperationChange(cooperationId: $id, input: $i, baseVersion: $v) { id } }"""
UPDATE_ME = """mutation($i: ContactDataInput!, $v: Int!) { updateMyContact(input: $i, baseVersion: $v) { id } }"""
REJECT = """mutation($id: ID!) { rejectChange(id: $id, reason: "Zählprobe") { id } }"""
LOGIN = """mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }"""

# 20 fields a proposal or direct edit can change at once (HistoryEntry.changes, Change.diff).
TWENTY_FIELDS = [
    ("legalForm", "OERV"), ("description", "Neu"), ("partnersText", "Alle"), ("legalFormText", "öffentlich-rechtlich"),
    ("sinceText", "2001"), ("startYear", 2001), ("endYear", 2030), ("status", "PLANNED"), ("funding", "Land"),
    ("notes", "Notiz"), ("sourceDocument", "Quelle"), ("sourceReference", "S. 1"), ("dataAsOf", "2024-01-02"),
    ("performedBy", {"kind": "JOINT", "text": "gemeinsam"}),
    ("savings", {"amount": "1000", "currency": "EUR", "period": "YEAR", "text": "jährlich"}),
]  # performedBy counts 2 fields, savings 4: 13 + 2 + 4 = 19, with the title 20


def changed_fields(n: int, title: str) -> dict:
    values = {"title": title}
    for name, value in TWENTY_FIELDS:
        if len(values) + (2 if name == "performedBy" else 4 if name == "savings" else 1) > n:
            break
        values[name] = value
    return values


class World:
    """The rows the probes read, grown from the small stage to the large one."""

    def __init__(self, gql, login, make_user) -> None:
        self.gql, self.login, self.make_user = gql, login, make_user
        self.tag = "Zaehlprobe" + uuid.uuid4().hex[:6]
        self.contacts: list[dict] = []
        self.stage = 0
        self.per_stage: dict[int, dict] = {}
        self.extra_reference: list = []

    async def ok(self, query: str, variables: dict, headers: dict | None = None) -> dict:
        result = await self.gql(query, variables, headers=headers if headers is not None else self.admin)
        assert not result.errors, (query, result.errors)
        return result.data

    async def ids(self, sql: str, params=()) -> list[int]:
        return [r["id"] for r in await fetch(sql, list(params))]

    async def create(self, title: str, partners: list[int], **more) -> int:
        data = await self.ok(COOPERATION_INPUT, {"i": {"title": title, "partners": [
            {"organizationId": str(p)} for p in partners], **more}})
        return int(data["createCooperation"]["id"])

    async def edit(self, cooperation_id: int, **values) -> None:
        version = (await fetch("SELECT version FROM cooperation WHERE id = ?", [cooperation_id]))[0]["version"]
        await self.ok(UPDATE_COOPERATION, {"id": str(cooperation_id), "i": values, "v": version})

    async def setup(self) -> None:
        username, password = await self.make_user("ADMIN", "APPROVER")
        self.admin = await self.login(username, password)
        self.kreis = (await self.ids("SELECT id FROM organization WHERE ags = ?", ["05978"]))[0]
        # A town of its own in Kreis Unna: Municipality.contacts then lists this world's contacts alone
        # (earlier tests leave confirmed contacts in the seeded towns, on PostgreSQL in every one of Unna's).
        async with in_transaction():
            self.town = (await create_organization(name=f"Probestadt {self.tag}", kind=OrganizationKind.MUNICIPALITY,
                                                   parent_id=self.kreis)).id
        # A district partner of no seeded cooperation: its cooperations are the world's series alone.
        self.lonely = (await self.ids("SELECT id FROM organization WHERE kind = 'DISTRICT' AND id NOT IN "
                                      "(SELECT organization_id FROM cooperation_partner) ORDER BY id"))[-1]
        self.districts = await self.ids("SELECT id FROM organization WHERE kind = 'DISTRICT' AND id NOT IN (?, ?) "
                                        "ORDER BY id", [self.lonely, self.kreis])
        self.others = await self.ids("SELECT id FROM organization WHERE id <> ? ORDER BY id", [self.town])
        self.regions = await self.ids("SELECT id FROM organization WHERE kind = 'DISTRICT' ORDER BY id")
        self.topics = await self.ids("SELECT id FROM topic_field ORDER BY id")
        self.kreis_cooperations = await self.ids(
            "SELECT cooperation_id AS id FROM cooperation_partner WHERE organization_id = ? ORDER BY cooperation_id",
            [self.kreis])
        self.change_base = (await fetch("SELECT COALESCE(MAX(id), 0) AS m FROM change_request"))[0]["m"]
        self.with_contacts = await self.create(f"{self.tag} Kontakte", [self.town])
        self.with_partners = await self.create(f"{self.tag} Partner", [self.town])
        self.with_history = await self.create(f"{self.tag} Verlauf", [self.town])
        self.framework = await self.create(f"{self.tag} Rahmen", [self.town])
        self.with_topics = await self.create(f"{self.tag} Themen", [self.town])

    def series(self) -> list[int]:
        return self.parts

    async def public_contact(self) -> dict:
        from service.accounts import sessions
        from service.accounts.contact_data import ContactData
        from service.accounts.models import Account
        from service.accounts.onboarding import NewContact, create_contact, invite, set_first_password
        from service.accounts.self_service import confirm_my_data

        last = f"Probe{len(self.contacts)}x{uuid.uuid4().hex[:4]}"
        data = ContactData(first_name=self.tag, last_name=last, email=f"{last.lower()}@example.org",
                           salutation="Frau", function="Sachbearbeitung", phone="+49 000 111-1")
        async with in_transaction():
            contact = await create_contact(NewContact(self.town, data, (self.with_contacts,)), actor=None)
            account = await invite(contact, actor=None)
        password = f"Pw-{uuid.uuid4().hex}"
        async with in_transaction():
            await set_first_password(account, password)
        await confirm_my_data(await sessions.principal_for(await Account.get(id=account.id)), data, True)
        return {"id": contact.id, "username": account.username, "password": password, "data": data,
                "headers": await self.login(account.username, password)}

    async def staff(self, roles: int) -> dict:
        from service.accounts.models import Role
        from service.accounts.users import create_user

        username = f"probe{self.tag[-6:]}{uuid.uuid4().hex[:8]}"
        password = f"Pw-{uuid.uuid4().hex}"
        chosen = [(Role.ADMIN, None)] + [(Role.APPROVER, r) for r in self.regions[:roles - 1]]
        await create_user(username=username, email=f"{username}@example.org", first_name="Zähl", last_name="Probe",
                          password=password, roles=chosen)
        return {"username": username, "headers": await self.login(username, password)}

    async def grow(self, n: int) -> None:
        stage = self.per_stage.setdefault(n, {})
        # Contacts of one town, each named as contact of one cooperation, each with one pending
        # change: contact data and cooperation proposals alternating (pendingChanges, contactPersons,
        # Cooperation.contacts, Municipality.contacts; their mails and audit entries feed the generic
        # mailDeliveries and auditLog probes).
        while len(self.contacts) < n:
            person = await self.public_contact()
            d = person["data"]
            if len(self.contacts) % 2 == 0:
                fields_ = {"firstName": d.first_name, "lastName": d.last_name, "email": d.email,
                           "salutation": d.salutation, "function": f"F{len(self.contacts)}", "phone": d.phone}
                await self.ok(UPDATE_ME, {"i": fields_, "v": 1}, person["headers"])
            else:
                version = (await fetch("SELECT version FROM cooperation WHERE id = ?", [self.with_contacts]))[0]
                await self.ok(PROPOSE, {"id": str(self.with_contacts), "v": version["version"],
                                        "i": {"notes": f"Vorschlag {len(self.contacts)}"}}, person["headers"])
            self.contacts.append(person)
        # Partners, history entries, parts and topic fields of one cooperation each.
        await self.edit(self.with_partners, partners=[{"organizationId": str(o)}
                                                      for o in [self.town, *self.others[:n - 1]]])
        have = (await fetch("SELECT COUNT(*) AS n FROM change_request WHERE cooperation_id = ? AND status = 'APPROVED'",
                            [self.with_history]))[0]["n"]
        for i in range(have, n):
            await self.edit(self.with_history, description=f"Stand {i}")
        parts = (await fetch("SELECT COUNT(*) AS n FROM cooperation WHERE parent_id = ?", [self.framework]))[0]["n"]
        for i in range(parts, n):  # a series of one shape (Query.cooperations, ContactRecord.cooperations, …)
            await self.create(f"{self.tag} Teil {i:02d}", [self.town, self.kreis, self.lonely],
                              partOfId=str(self.framework), topicFieldIds=[str(t) for t in self.topics[:2]],
                              legalForm="OERV", performedBy={"kind": "PARTNER", "organizationId": str(self.town)})
        self.parts = await self.ids("SELECT id FROM cooperation WHERE parent_id = ? ORDER BY id", [self.framework])
        await self.edit(self.with_topics, topicFieldIds=[str(t) for t in self.topics[:min(n, len(self.topics))]])
        # Per stage: a cooperation whose last edit changed n fields, a rejected proposal changing n
        # fields, a contact named for n cooperations, an account with n roles, a cooperation with
        # partners in n districts.
        edited = await self.create(f"{self.tag} Felder {n}", [self.town])
        await self.edit(edited, **changed_fields(n, f"{self.tag} Felder {n} neu"))
        stage["edited"] = edited
        proposer = self.contacts[0]
        target = await self.create(f"{self.tag} Diff {n}", [self.town])
        version = (await fetch("SELECT version FROM cooperation WHERE id = ?", [target]))[0]["version"]
        proposal = await self.ok(PROPOSE, {"id": str(target), "v": version, "i": changed_fields(n, f"{self.tag} Diff neu")},
                                 proposer["headers"])
        stage["change"] = proposal["proposeCooperationChange"]["id"]
        await self.ok(REJECT, {"id": stage["change"]})
        from service.accounts.contact_data import ContactData
        from service.accounts.onboarding import NewContact, create_contact

        async with in_transaction():
            named = await create_contact(NewContact(self.kreis, ContactData(
                first_name="Zähl", last_name=f"Kreis{n}", email=f"kreis{n}x{uuid.uuid4().hex[:8]}@example.org"),
                tuple(self.series()[:n])), actor=None)
        stage["named"] = named.id
        stage["staff"] = await self.staff(n)
        for _ in range(n - 2 if n == LARGE else 0):  # staffAccounts: 18 more accounts
            await self.staff(1)
        stage["regions"] = await self.create(f"{self.tag}Regionen{n}", self.districts[:n])
        # Sessions of one contact (myData): one more sign-in per row.
        sessions = (await fetch("SELECT COUNT(*) AS n FROM session WHERE account_id = "
                                "(SELECT id FROM account WHERE username = ?)", [proposer["username"]]))[0]["n"]
        for _ in range(sessions, n):
            await self.login(proposer["username"], proposer["password"])
        # A session opened with the initial password (Me.requiredActions).
        stage["me"] = proposer["headers"] if n == SMALL else await self.initial_session()
        if n == LARGE:
            await self.add_reference_rows()
        self.stage = n

    async def initial_session(self) -> dict:
        from service.accounts.contact_data import ContactData
        from service.accounts.onboarding import NewContact, create_contact, invite
        from service.mail.models import OutboxMail
        from service.mail.sealing import unseal

        last = f"Initial{uuid.uuid4().hex[:6]}"
        async with in_transaction():
            contact = await create_contact(NewContact(self.town, ContactData(
                first_name="Zähl", last_name=last, email=f"{last.lower()}@example.org"), (self.with_contacts,)),
                actor=None)
            account = await invite(contact, actor=None)
        mail = await OutboxMail.filter(account_id=account.id).order_by("-id").first()
        content = unseal(mail.sealed_content)
        password = re.search(r"Startpasswort:\s+(\S+)", content["text"]).group(1)
        return await self.login(account.username, password)

    async def add_reference_rows(self) -> None:
        """Nine more topic fields and legal forms (11 seeded → 20); removed again by `cleanup`."""
        from service.catalogue import reference
        from service.catalogue.models import LegalForm, LegalFormCategory, TopicField

        for i in range(9):
            self.extra_reference.append(await TopicField.create(key=f"{self.tag.lower()}-{i}", label=f"Probe {i}",
                                                                position=900 + i))
            self.extra_reference.append(await LegalForm.create(code=f"{self.tag.upper()}{i}", label=f"Probe {i}",
                                                               category=LegalFormCategory.INFORMAL, position=900 + i))
        reference.forget()

    async def cleanup(self) -> None:
        """Reject the world's pending changes (approver inboxes of later tests stay theirs) and drop the
        extra reference rows."""
        from service.catalogue import reference

        pending = await fetch("SELECT id FROM change_request WHERE id > ? AND status = 'PENDING'", [self.change_base])
        for row in pending:
            await self.ok(REJECT, {"id": str(row["id"])})

        for row in self.extra_reference:
            await row.delete()
        reference.forget()


def paged_root(name: str, type_name: str, headers: str = "admin") -> Scenario:
    """Generic: a root list with `first` over rows the world holds (at least 20)."""
    def probe(world: World, n: int) -> Probe:
        connection = type_name.endswith("Connection")
        return Probe(f"query($n: Int!) {{ {name}(first: $n) {{ {{sel:{type_name}}} }} }}", {"n": n},
                     getattr(world, headers), at(f"{name}.edges" if connection else name))
    return Scenario(probe)


def one(root: str, type_name: str, variables, path: str, headers=lambda w, n: w.admin, var_defs: str = "$id: ID!",
        sizes=(SMALL, LARGE), reason: str = "") -> Scenario:
    def probe(world: World, n: int) -> Probe:
        defs = f"({var_defs})" if var_defs else ""
        return Probe(f"query{defs} {{ {root} {{ {{sel:{type_name}}} }} }}", variables(world, n),
                     headers(world, n), at(path))
    return Scenario(probe, sizes, reason)


def staff_roles(world: World, n: int) -> Probe:
    username = world.per_stage[n]["staff"]["username"]
    return Probe("query($s: String) { staffAccounts(search: $s) { {sel:StaffAccount:Cooperation:Municipality} } }",
                 {"s": username}, world.admin, lambda data: len(next(a for a in data["staffAccounts"] if a["username"] == username)["roles"]))


def statistics(inner: str, search: Callable[[World, int], str], path: str, sizes=(SMALL, LARGE),
               reason="") -> Scenario:
    def probe(world: World, n: int) -> Probe:
        return Probe(f"query($s: String) {{ statistics(search: $s) {{ {inner} }} }}",
                     {"s": search(world, n)}, world.admin, at(path))
    return Scenario(probe, sizes, reason)


def facets(inner: str, search: Callable[[World, int], str], path: str, sizes=(SMALL, LARGE), reason="") -> Scenario:
    def probe(world: World, n: int) -> Probe:
        return Probe(f"query($s: String) {{ cooperations(search: $s) {{ facets {{ {inner} }} }} }}",
                     {"s": search(world, n)}, world.admin, at(path))
    return Scenario(probe, sizes, reason)


REFERENCE = ("a whole reference table (11 seeded rows); the world adds 9 rows at the large stage (removed "
             "afterwards), more would change what every other test sees")

# Lists of seeded bodies (districts, towns) leave out the cooperations below them (`{sel:T:Cooperation:
# Municipality}`) and enter no body below a body: the nested pages of their cooperations and their
# parents differ in shape from body to body (parts, performers, a parent or none), and a loader level
# that some rows reach and others not is a statement more or less; those levels are probed on their own
# (Municipality.cooperations over the world's series of one shape, parents below every other probe).
SCENARIOS: dict[str, Scenario] = {
    # Generic: root lists paged with `first`.
    # Explicit: rows of one shape. Over the seed the first rows differ in shape (parts, performers, parents),
    # and the loaders then run a statement more or less for a level some rows have and others not.
    "Query.cooperations": Scenario(lambda w, n: Probe(
        "query($s: String, $n: Int!) { cooperations(search: $s, first: $n) { {sel:CooperationConnection:Municipality} } }",
        {"s": f"{w.tag} Teil", "n": n}, w.admin, at("cooperations.edges")),
        reason="searched: the world's series of one shape (parts of one framework, same partners, forms, topics); "
               "seeded bodies below are left out (their shapes follow earlier tests; probed on their own)"),
    "Query.municipalities": Scenario(lambda w, n: Probe(
        "query($r: [ID!], $n: Int!) { municipalities(filter: {regionIds: $r, kinds: [MUNICIPALITY]}, first: $n) "
        "{ {sel:MunicipalityConnection:Cooperation:Municipality} } }", {"r": [str(w.kreis)], "n": n}, w.admin, at("municipalities.edges")),
        sizes=(2, 10), reason="the towns of the Kreis Unna (10): bodies of one kind and parent, all with cooperations"),
    "Query.mailDeliveries": paged_root("mailDeliveries", "MailDelivery"),
    "Query.auditLog": paged_root("auditLog", "AuditLogEntry"),
    # Explicit.
    "Query.pendingChanges": Scenario(lambda w, n: Probe(
        "query($a: ID, $n: Int!) { pendingChanges(after: $a, first: $n) { {sel:Change} } }",
        {"a": str(w.change_base) if w.change_base else None, "n": n}, w.admin, at("pendingChanges")),
        reason="paged after the world's first change, so both pages hold the same mix of kinds"),
    "Query.contactPersons": Scenario(lambda w, n: Probe(
        "query($s: String, $n: Int!) { contactPersons(search: $s, first: $n) { {sel:ContactRecord} } }",
        {"s": w.tag, "n": LARGE}, w.admin, at("contactPersons")),
        reason="searched by the world's tag: its own contacts, with accounts, cooperations and a pending change"),
    "Query.staffAccounts": Scenario(lambda w, n: Probe(
        "query($s: String) { staffAccounts(search: $s) { {sel:StaffAccount:Cooperation:Municipality} } }",
        {"s": f"probe{w.tag[-6:]}"}, w.admin, at("staffAccounts")), sizes=(1, 20),
        reason="this world's staff accounts (other tests leave theirs): its admin, then 19 more"),
    "Query.topicFields": Scenario(lambda w, n: Probe("query { topicFields { {sel:TopicField} } }", {}, w.admin,
                                                     at("topicFields")), sizes=(11, 20), reason=REFERENCE),
    "Query.legalForms": Scenario(lambda w, n: Probe("query { legalForms { {sel:LegalForm} } }", {}, w.admin,
                                                    at("legalForms")), sizes=(11, 20), reason=REFERENCE),
    "Cooperation.partners": one("cooperation(id: $id)", "Cooperation", lambda w, n: {"id": str(w.with_partners)},
                                "cooperation.partners"),
    "Cooperation.contacts": one("cooperation(id: $id)", "Cooperation", lambda w, n: {"id": str(w.with_contacts)},
                                "cooperation.contacts"),
    "Cooperation.history": one("cooperation(id: $id)", "Cooperation", lambda w, n: {"id": str(w.with_history)},
                               "cooperation.history"),
    "Cooperation.parts": Scenario(lambda w, n: Probe(
        "query($id: ID!) { cooperation(id: $id) { id parts { {sel:Cooperation} } } }", {"id": str(w.framework)},
        w.admin, at("cooperation.parts"))),
    "Cooperation.topicFields": one("cooperation(id: $id)", "Cooperation", lambda w, n: {"id": str(w.with_topics)},
                                   "cooperation.topicFields", sizes=(2, 11),
                                   reason="the seed has 11 topic fields; a cooperation carries each at most once"),
    "HistoryEntry.changes": one("cooperation(id: $id)", "Cooperation",
                                lambda w, n: {"id": str(w.per_stage[n]["edited"])}, "cooperation.history.0.changes"),
    "Change.diff": one("change(id: $id)", "Change", lambda w, n: {"id": w.per_stage[n]["change"]}, "change.diff"),
    "ContactRecord.cooperations": one("contactPerson(id: $id)", "ContactRecord",
                                      lambda w, n: {"id": str(w.per_stage[n]["named"])}, "contactPerson.cooperations"),
    "Municipality.contacts": one("municipality(id: $id)", "Municipality", lambda w, n: {"id": str(w.town)},
                                 "municipality.contacts", sizes=(SMALL, LARGE),
                                 reason="the contacts of a town without earlier ones: this world's, 2 then 20"),
    "Municipality.cooperations": Scenario(lambda w, n: Probe(
        "query($id: ID!, $n: Int!) { municipality(id: $id) { cooperations(first: $n) { {sel:PartnerCooperationConnection::Municipality} } } }",
        {"id": str(w.lonely), "n": n}, w.admin, at("municipality.cooperations.edges")),
        reason="a district partner of the world's series only, paged"),
    "Me.roles": one("me", "Me:Cooperation:Municipality", lambda w, n: {}, "me.roles", headers=lambda w, n: w.per_stage[n]["staff"]["headers"],
                    var_defs=""),
    "Me.requiredActions": one("me", "Me", lambda w, n: {}, "me.requiredActions",
                              headers=lambda w, n: w.per_stage[n]["me"], var_defs="", sizes=(0, 2),
                              reason="two actions exist: a confirmed contact has none, a session opened with "
                                     "the initial password both"),
    "StaffAccount.roles": Scenario(staff_roles),
    "CooperationFacets.partners": facets("partners { {sel:PartnerFacet:Cooperation:Municipality} }", lambda w, n: f"{w.tag}Regionen{n}",
                                         "cooperations.facets.partners",
                                         sizes=(2, 19), reason="a cooperation with 2 and with 19 district partners "
                                         "(every district but the Kreis Unna and the lonely one)"),
    "CooperationFacets.regions": facets("regions { {sel:RegionFacet:Cooperation:Municipality} }",
                                        lambda w, n: f"{w.tag}Regionen{n}", "cooperations.facets.regions",
                                        sizes=(2, 19), reason="a cooperation with partners in 2 and in 19 districts "
                                        "(with their states)"),
    "CooperationFacets.topicFields": facets("topicFields { {sel:TopicFieldFacet} }", lambda w, n: w.tag,
                                            "cooperations.facets.topicFields", sizes=(11, 20), reason=REFERENCE),
    "CooperationFacets.legalForms": facets("legalForms { {sel:LegalFormFacet} }", lambda w, n: w.tag,
                                           "cooperations.facets.legalForms", sizes=(11, 20), reason=REFERENCE),
    "CooperationFacets.statuses": facets("statuses { {sel:StatusFacet} }", lambda w, n: w.tag,
                                         "cooperations.facets.statuses", sizes=(4, 4),
                                         reason="always the four CooperationStatus values, counted in one statement"),
    "CooperationFacets.startDecades": facets("startDecades { {sel:StartDecadeCount} }", lambda w, n: w.tag,
                                             "cooperations.facets.startDecades", sizes=(1, 1),
                                             reason="the decades of the world's start years: one grouped statement"),
    **{f"CooperationStatistics.{name}": statistics(f"{name} {{ {{sel:{t}}} }}", search, f"statistics.{name}", sizes,
                                                   reason)
       for name, t, search, sizes, reason in (
           ("topicFields", "TopicFieldFacet", lambda w, n: w.tag, (11, 20), REFERENCE),
           ("legalForms", "LegalFormFacet", lambda w, n: w.tag, (11, 20), REFERENCE),
           ("statuses", "StatusFacet", lambda w, n: w.tag, (4, 4), "always the four CooperationStatus values"),
           ("startDecades", "StartDecadeCount", lambda w, n: w.tag, (1, 1), "the decades of the world's start years"),
           ("regions", "RegionFacet:Cooperation:Municipality", lambda w, n: f"{w.tag}Regionen{n}", (2, 19),
            "a cooperation with partners in 2 and in 19 districts (with their states)"),
       )},
}
# Measured elsewhere: a list whose rows this world cannot make without its own setup.
MEASURED_ELSEWHERE = {
    "Cooperation.documents": "tests/test_documents.py::test_documents_of_a_list_cost_the_same_statements_at_2_and_20",
}
# Not lists, but named by issue #12: the signed-in account's export (its sessions grow).
EXTRA: dict[str, Scenario] = {
    "Query.myData": Scenario(lambda w, n: Probe("query { myData }", {}, w.contacts[0]["headers"],
                                                lambda data: len(data["myData"]["sessions"])),
                             reason="a contact's sessions, one per sign-in"),
}


def test_every_list_field_has_a_probe():
    fields_ = list_fields(SCHEMA)
    missing = sorted(fields_ - SCENARIOS.keys() - MEASURED_ELSEWHERE.keys())
    assert not missing, f"list fields without a statement-count probe in {__name__}: {missing}"
    stale = sorted(SCENARIOS.keys() - fields_)
    assert not stale, f"probes for fields the schema no longer has: {stale}"
    for name, scenario in SCENARIOS.items():
        assert scenario.sizes == (SMALL, LARGE) or scenario.reason, f"{name}: say why the sizes differ"


async def _statements(world: World, probe: Probe, settings) -> tuple[int, int, dict]:
    # One document for both sizes: fitted to the limits with every page at the large size.
    largest = {k: LARGE if isinstance(v, int) and not isinstance(v, bool) else v for k, v in probe.variables.items()}
    document = fitted(SCHEMA, lambda depth: render(probe.template, depth), largest,
                      max_cost=settings.max_query_cost, max_depth=settings.max_query_depth,
                      max_tokens=settings.max_tokens)
    await world.gql(document, probe.variables, headers=probe.headers)  # warm: caches
    counts = []
    for _ in range(2):  # the fewer of two: a session's once-a-minute touch may fall into either
        result = await world.gql(document, probe.variables, headers=probe.headers)
        assert not result.errors, (document, result.errors)
        counts.append(result["extensions"]["sqlQueries"])
    return min(counts), probe.length(result.data), result.data


async def test_sql_statements_do_not_grow_with_any_list(gql, login, make_user, settings):
    world = World(gql, login, make_user)
    await world.setup()
    everything = {**SCENARIOS, **EXTRA}
    counts: dict[str, list[tuple[int, int]]] = {name: [] for name in everything}
    try:
        for size in (SMALL, LARGE):
            await world.grow(size)
            for name, scenario in everything.items():
                statements, length, _ = await _statements(world, scenario.probe(world, size), settings)
                counts[name].append((statements, length))
    finally:
        await world.cleanup()
    report = {name: c for name, c in counts.items()}
    failures = []
    for name, ((small_statements, small_length), (large_statements, large_length)) in counts.items():
        small, large = everything[name].sizes
        if small_length < small or large_length - small_length < large - small:
            failures.append(f"{name}: the list held {small_length} and {large_length} rows, "
                            f"expected {small} and {large} (the probe does not grow its list)")
        if not small_statements - SHAPE_SLACK <= large_statements <= small_statements + SHAPE_SLACK:
            failures.append(f"{name}: {small_statements} SQL statements at {small_length} rows, "
                            f"{large_statements} at {large_length}")
    print("statements per probe (small, large):", report)
    assert not failures, "\n".join(failures)

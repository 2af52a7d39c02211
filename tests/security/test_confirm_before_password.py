"""Issue 10.4: signed in with the initial password, a contact person must not become public.

Confirmation (with consent) comes after the person's own password: before that, confirmMyData
answers ACTION_REQUIRED and nothing is published.
"""

from __future__ import annotations

import re

import pytest

from service.catalogue.models import Contact, ContactState
from tests.conftest import link_in, text_part
from tests.test_onboarding import CREATE, PROFILE, contact_input, current_data, ids_of

CONFIRM = """mutation($i: ContactDataInput!) { confirmMyData(input: $i, consent: true) { state } }"""
CHANGE = """mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n)
  { requiredActions } }"""


@pytest.fixture
async def admin(make_user, login):
    return await login(*await make_user("ADMIN"))


async def _invited(gql, admin, smtp, deliver):
    org_id, coop_id = await ids_of("Werne", "unna-kommunen-50")
    contact = (await gql(CREATE, {"input": contact_input(org_id, coop_id)}, headers=admin)).data["createContact"]
    await deliver()
    [message] = smtp.sink.to(contact["email"])
    initial = re.search(r"Startpasswort:\s+(\S+)", text_part(message)).group(1)
    return contact, coop_id, initial, message


async def test_confirming_with_the_initial_password_is_refused(gql, admin, smtp, deliver, login):
    contact, coop_id, initial, _ = await _invited(gql, admin, smtp, deliver)
    headers = await login(contact["username"], initial)
    refused = await gql(CONFIRM, {"i": await current_data(contact["id"])}, headers=headers)
    assert refused.codes == ["ACTION_REQUIRED"]
    message = refused.errors[0]["message"]
    assert "Set your own password first" in message and "zuerst Ihr eigenes Passwort" in message
    assert (await Contact.get(id=int(contact["id"]))).state is ContactState.INVITED
    public = (await gql(PROFILE, {"id": coop_id})).data["cooperation"]["contacts"]
    assert contact["id"] not in [c["id"] for c in public]

    # After the own password the same confirmation publishes.
    changed = await gql(CHANGE, {"c": initial, "n": "Boenen-Eigenes-Passwort-7"}, headers=headers)
    assert changed.data["changePassword"]["requiredActions"] == ["CONFIRM_DATA"]
    confirmed = await gql(CONFIRM, {"i": await current_data(contact["id"])}, headers=headers)
    assert confirmed.data["confirmMyData"]["state"] == "PUBLIC"
    public = (await gql(PROFILE, {"id": coop_id})).data["cooperation"]["contacts"]
    assert contact["id"] in [c["id"] for c in public]


async def test_the_activation_page_sets_the_password_then_publishes(gql, client, admin, smtp, deliver):
    contact, coop_id, _, message = await _invited(gql, admin, smtp, deliver)
    link = link_in(message, "/activate")
    assert (await client.get(link)).status_code == 200
    data = await current_data(contact["id"])
    form = {"token": link.split("token=")[1], "password": "Boenen-Seite-Passwort-8",
            "password_repeat": "Boenen-Seite-Passwort-8", "consent": "yes",
            "first_name": data["firstName"], "last_name": data["lastName"], "email": data["email"],
            "salutation": data.get("salutation") or "", "function": data.get("function") or "",
            "phone": data.get("phone") or "", "title": data.get("title") or ""}
    done = await client.post("/activate", data=form)
    assert done.status_code == 200, done.text
    assert (await Contact.get(id=int(contact["id"]))).state is ContactState.PUBLIC
    public = (await gql(PROFILE, {"id": coop_id})).data["cooperation"]["contacts"]
    assert contact["id"] in [c["id"] for c in public]

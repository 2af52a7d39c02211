"""Stored document files that no document needs are deleted (service/documents/sweep.py); the ones a
published, proposed or withdrawn document needs, young ones and ones stored again stay."""

from __future__ import annotations

import io
import os
import time
import datetime as dt
import uuid
from urllib.parse import urlsplit

from service.documents.storage import get_storage
from service.sql import fetch
from service.time import now
from service.documents.sweep import _delete_if_still_old, _old_files, sweep_documents
from tests import document_files as files
from tests.processes import ikz_env, run_cli
from tests.test_approvals import REJECT
from tests.test_documents import ATTACH, PROPOSE, WITHDRAW, admin, new_cooperation, upload  # noqa: F401 (fixtures)

TWO_HOURS = 2 * 3600


def age(sha256: str, seconds: float = TWO_HOURS) -> None:
    then = time.time() - seconds
    os.utime(get_storage().path(sha256), (then, then))


def stored(sha256: str) -> bool:
    return get_storage().exists(sha256)


async def attached(client, admin, coop: str, data: bytes) -> dict:
    response = await upload(client, ATTACH, {"c": coop, "i": {"title": "Satzung", "kind": "STATUTE"}}, data,
                            "satzung.pdf", headers=admin)
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]["attachDocument"]


async def proposed(client, person, coop: str, data: bytes) -> dict:
    response = await upload(client, PROPOSE, {"c": coop, "i": {"title": "Entwurf", "kind": "OTHER"}}, data,
                            "entwurf.pdf", headers=person["headers"])
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]["proposeDocument"]


async def sha_of(gql, admin, document_id: str) -> str:
    return (await gql("query($id: ID!) { document(id: $id) { sha256 } }", {"id": document_id},
                      headers=admin)).data["document"]["sha256"]


async def test_sweep_deletes_what_no_document_needs_and_keeps_the_rest(client, gql, admin, new_cooperation,
                                                                     confirmed_contact, make_user, login):
    coop = await new_cooperation("Bergkamen")
    person = await confirmed_contact("Bergkamen", [])
    approver = await login(*await make_user("APPROVER", scope="05978"))
    published = await attached(client, admin, coop, files.pdf(f"Veröffentlicht {uuid.uuid4().hex}"))
    withdrawn = await attached(client, admin, coop, files.pdf(f"Zurückgenommen {uuid.uuid4().hex}"))
    assert not (await gql(WITHDRAW, {"id": withdrawn["id"]}, headers=admin)).errors
    waiting = (await proposed(client, person, coop, files.pdf(f"Wartet {uuid.uuid4().hex}")))["document"]
    refused_lately = await proposed(client, person, coop, files.pdf(f"Eben abgelehnt {uuid.uuid4().hex}"))
    refused_long_ago = await proposed(client, person, coop, files.pdf(f"Längst abgelehnt {uuid.uuid4().hex}"))
    for change in (refused_lately, refused_long_ago):
        assert (await gql(REJECT, {"id": change["id"], "r": "nein"}, headers=approver)).data["rejectChange"]
    await fetch("UPDATE document SET created_at = ? WHERE id = ?",
                [now() - dt.timedelta(days=40), int(refused_long_ago["document"]["id"])])
    leftover = get_storage().put(io.BytesIO(f"abgebrochener Upload {uuid.uuid4().hex}".encode()))
    young = get_storage().put(io.BytesIO(f"Upload gerade eben {uuid.uuid4().hex}".encode()))
    needed = [published["sha256"], withdrawn["sha256"], await sha_of(gql, admin, waiting["id"]),
              await sha_of(gql, admin, refused_lately["document"]["id"])]
    old_rejected = await sha_of(gql, admin, refused_long_ago["document"]["id"])
    for sha in [*needed, old_rejected, leftover]:
        age(sha)

    dry = await sweep_documents(dry_run=True)
    assert {old_rejected, leftover} <= set(dry.deleted) and not set(dry.deleted) & {*needed, young}
    assert all(stored(sha) for sha in [*needed, old_rejected, leftover, young])  # a dry run deletes nothing

    report = await sweep_documents()
    assert {old_rejected, leftover} <= set(report.deleted) and report.freed_bytes > 0
    assert not stored(old_rejected) and not stored(leftover)
    assert all(stored(sha) for sha in [*needed, young])
    client.cookies.clear()
    assert (await client.get(urlsplit(published["url"]).path)).status_code == 200
    # The submitter may still look at their old rejected document; its file is gone, which is a clean 404.
    gone = await client.get(f"/documents/{refused_long_ago['document']['id']}/entwurf.pdf", headers=person["headers"])
    assert gone.status_code == 404


async def test_a_contact_who_deletes_their_data_takes_their_unpublished_files_with_them(
        client, gql, admin, new_cooperation, confirmed_contact):
    coop = await new_cooperation("Bergkamen")
    person = await confirmed_contact("Bergkamen", [])
    change = await proposed(client, person, coop, files.pdf(f"Unterschrift {uuid.uuid4().hex}"))
    sha = await sha_of(gql, admin, change["document"]["id"])
    assert not (await gql("mutation { deleteMyContact }", headers=person["headers"])).errors
    age(sha)
    assert sha in (await sweep_documents()).deleted and not stored(sha)


async def test_an_upload_of_content_stored_long_ago_keeps_its_file_until_its_row_commits(settings):
    """An upload stores its file before its transaction commits the document row. When the same
    content already lay on disk, unneeded for hours, storing it again makes it young, so a sweep in
    that window leaves it (without the touch the sweep would delete the new document's file)."""
    data = f"Zweimal {uuid.uuid4().hex}".encode()
    sha = get_storage().put(io.BytesIO(data))  # an earlier upload whose document went away
    age(sha)
    assert get_storage().put(io.BytesIO(data)) == sha  # the new upload; its row is not committed yet
    assert sha not in (await sweep_documents()).deleted and stored(sha)


def test_a_file_touched_between_scan_and_delete_stays(settings):
    sha = get_storage().put(io.BytesIO(f"Wettlauf {uuid.uuid4().hex}".encode()))
    age(sha)
    cutoff = time.time() - 3600
    found = dict(_old_files(get_storage().root, cutoff))
    assert sha in found
    os.utime(found[sha])  # an upload of the same content touches it now
    assert _delete_if_still_old(found[sha], cutoff, dry_run=False) is None
    assert stored(sha)
    age(sha)
    assert _delete_if_still_old(found[sha], cutoff, dry_run=False) > 0 and not stored(sha)


def test_cli_sweep_lists_and_deletes(settings):
    sha = get_storage().put(io.BytesIO(f"Kommandozeile {uuid.uuid4().hex}".encode()))
    age(sha)
    env = ikz_env(settings.database_url, settings.var_dir, settings.secret_key)
    dry = run_cli(["documents", "sweep", "--dry-run"], env)
    assert dry.returncode == 0 and sha in dry.stdout and "would delete" in dry.stdout and stored(sha)
    done = run_cli(["documents", "sweep"], env)
    assert done.returncode == 0 and sha in done.stdout and not stored(sha)

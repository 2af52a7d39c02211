"""Every link in every mail template leads to a page that exists.

Each template is rendered with the values the service passes (links built by Settings.link, as the
service builds them), every URL in the text and HTML parts is collected, and each is requested from
the app: none may answer 404 (a token link to an unknown token answers 410, a review link sends to
the sign-in page).
"""

from __future__ import annotations

import re
from pathlib import Path

from service.mail.render import render
from service.sql import fetch
from tests.conftest import BASE_URL

TEMPLATES = Path(__file__).resolve().parents[1] / "mail_templates"
URL = re.compile(r"https?://[^\s\"'<>)]+")


async def contexts(settings) -> dict[str, dict]:
    coop = (await fetch("SELECT id FROM cooperation ORDER BY id LIMIT 1"))[0]["id"]
    change = {"field": "phone", "label": "Telefon", "old": "1", "new": "2"}
    common = {"recipient_name": "Frau Muster", "record_title": "Rettungsdienst", "change_kind": "Änderung"}
    return {
        "invitation": {**common, "username": "rmuster", "initial_password": "abcdefghijkmnop", "is_resend": False,
                       "organization_name": "Selm", "expires_on": "15.12.2026",
                       "activation_url": settings.link("activate", token="unbekannt")},
        "password_reset": {**common, "username": "rmuster", "valid_minutes": 60,
                           "reset_url": settings.link("reset-password", token="unbekannt")},
        "approver_notification": {**common, "approver_name": "Frau Freigabe", "submitter_name": "Renate Muster",
                                  "submitter_organization": "Selm", "submitted_at": "01.12.2026, 10:00",
                                  "review_url": settings.link("review", change="1"), "changes": [change]},
        "change_approved": {**common, "approved_at": "01.12.2026, 11:00", "comment": "passt",
                            "record_url": settings.link("cooperations/" + str(coop))},
        "change_rejected": {**common, "rejected_at": "01.12.2026, 11:00", "reason": "bitte belegen"},
        "contact_deleted": {**common, "approver_name": "Frau Freigabe", "organization_name": "Selm",
                            "deleted_at": "01.12.2026, 12:00"},
    }


async def test_every_link_in_every_mail_template_exists(client, settings):
    names = sorted({p.name.split(".")[0] for p in TEMPLATES.glob("*.subject.txt")})
    values = await contexts(settings)
    assert set(names) <= set(values), f"a new mail template needs values here: {set(names) - set(values)}"
    urls: set[str] = set()
    for name in names:
        mail = render(name, values[name])
        found = set(URL.findall(mail.text)) | set(URL.findall(mail.html))
        assert found or name == "contact_deleted", name
        urls |= {u.rstrip(".,;:") for u in found}
    local = sorted(u for u in urls if u.startswith(BASE_URL))
    assert local, urls
    for url in local:
        client.cookies.clear()
        response = await client.get(url.replace("&amp;", "&"))
        assert response.status_code != 404 and response.status_code < 500, (url, response.status_code)

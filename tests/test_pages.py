"""The web pages through the real ASGI app: public catalogue, sign-in, Meine Daten, security."""

from __future__ import annotations

import re

import pytest

from service.sql import fetch
from tests.conftest import BASE_URL

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, html[:2000]
    return found.group(1)


async def coop_id(key: str) -> str:
    return str((await fetch("SELECT id FROM cooperation WHERE key = ?", [key]))[0]["id"])


async def org_id(name: str) -> str:
    return str((await fetch("SELECT id FROM organization WHERE name = ?", [name]))[0]["id"])


async def sign_in(client, username: str, password: str, next_path: str = "/me"):
    client.cookies.clear()
    page = await client.get("/login", params={"next": next_path})
    token = csrf_of(page.text)
    return await client.post("/login", data={"csrf": token, "username": username, "password": password,
                                             "next": next_path}, headers={"origin": BASE_URL})


async def test_search_page_lists_facets_and_filters_by_query_string(client):
    page = await client.get("/", params={"q": "Rettungsdienst"})
    assert page.status_code == 200
    html = page.text
    assert '<html lang="de">' in html and "Durchführung des Rettungsdienstes" in html
    assert 'name="topic"' in html and 'name="legal"' in html and 'name="status"' in html and 'name="partner"' in html
    assert 'name="region"' in html and 'name="from"' in html
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    selm = await org_id("Selm")
    narrowed = await client.get("/", params={"q": "Rettungsdienst", "partner": selm})
    assert narrowed.status_code == 200 and f'value="{selm}" checked' in narrowed.text


async def test_search_page_region_facet_shows_counts_and_narrows(client):
    import re

    unna = await org_id("Kreis Unna")
    page = (await client.get("/")).text
    label = re.search(rf'<label for="region-{unna}">Kreis Unna <span class="count">\((\d+)\)</span>', page)
    assert label, page[page.find("Region"):][:600]
    narrowed = await client.get("/", params={"region": unna})
    assert narrowed.status_code == 200 and f'id="region-{unna}" name="region" value="{unna}" checked' in narrowed.text
    assert f'id="ergebnisse">{label.group(1)} Kooperation' in narrowed.text


async def test_search_paging_and_bad_values(client):
    first = await client.get("/", params={"sort": "year-desc"})
    assert first.status_code == 200
    nxt = re.search(r'href="(/\?[^"]*after=[^"]+)" rel="next"', first.text)
    assert nxt
    second = await client.get(nxt.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and "Zur ersten Seite" in second.text
    weird = await client.get("/", params={"topic": "¹", "from": "²⁰¹⁰", "after": "garbage", "sort": "x"})
    assert weird.status_code == 200


async def test_profile_municipality_and_german_404(client):
    cid = await coop_id("unna-kommunen-17")
    page = await client.get(f"/cooperations/{cid}")
    assert page.status_code == 200 and "Partner" in page.text and "Stand:" in page.text
    selm = await org_id("Selm")
    assert f'href="/municipalities/{selm}"' in page.text
    town = await client.get(f"/municipalities/{selm}")
    assert town.status_code == 200 and "Kooperationen (" in town.text
    assert (await client.get("/municipalities")).status_code == 200
    for path in ("/cooperations/999999999", "/cooperations/¹", "/cooperations/abc", "/municipalities/0", "/nirgendwo"):
        missing = await client.get(path)
        assert missing.status_code == 404, path
        assert "nicht gefunden" in missing.text.lower() or "gibt es nicht" in missing.text


async def test_review_superscript_id_is_a_clear_404_not_a_crash(client):
    for value in ("¹", "٣", "12a", "", "99999999999"):
        page = await client.get("/review", params={"change": value})
        assert page.status_code == 404, value
        if value:
            assert (await client.get(f"/review/{value}")).status_code == 404, value


async def test_login_needs_csrf_and_same_origin(client, make_user):
    username, password = await make_user("APPROVER")
    client.cookies.clear()
    page = await client.get("/login")
    token = csrf_of(page.text)
    # no token
    assert (await client.post("/login", data={"username": username, "password": password})).status_code == 403
    # foreign origin, even with the token
    foreign = await client.post("/login", data={"csrf": token, "username": username, "password": password},
                                headers={"origin": "https://evil.example"})
    assert foreign.status_code == 403 and "ikz_session" not in foreign.headers.get("set-cookie", "")
    # the old review form's target too
    assert (await client.post("/review/login", data={"username": username, "password": password})).status_code == 403
    ok = await client.post("/login", data={"csrf": token, "username": username, "password": password,
                                           "next": "//evil.example/x"}, headers={"origin": BASE_URL})
    assert ok.status_code == 303 and ok.headers["location"] == "/me"
    assert "ikz_session" in ok.headers["set-cookie"] and "httponly" in ok.headers["set-cookie"].lower()


async def test_login_error_keeps_username_not_password(client):
    client.cookies.clear()
    token = csrf_of((await client.get("/login")).text)
    page = await client.post("/login", data={"csrf": token, "username": "niemand<b>", "password": "geheim-123456"},
                             headers={"origin": BASE_URL})
    assert page.status_code == 400
    assert 'value="niemand&lt;b&gt;"' in page.text and "geheim-123456" not in page.text
    assert 'aria-invalid="true"' in page.text and 'href="#username"' in page.text


@pytest.mark.parametrize("target, expected", [
    ("https://evil.example/", "/me"), ("//evil.example", "/me"), ("/\\evil.example", "/me"),
    ("javascript:alert(1)", "/me"), ("/review?change=3", "/review?change=3"),
])
def test_next_is_local_only(target, expected):
    from ikz.web.base import safe_next

    assert safe_next(target) == expected


async def test_contact_edits_phone_sees_pending_change_and_downloads_data(client, confirmed_contact):
    who = await confirmed_contact("Kamen", ["unna-kommunen-17"] if False else [])
    signed = await sign_in(client, who["username"], who["password"])
    assert signed.status_code == 303 and signed.headers["location"] == "/me"
    me = await client.get("/me")
    assert me.status_code == 200 and who["last_name"] in me.text and "öffentlich sichtbar" in me.text
    form = await client.get("/me/edit")
    token = csrf_of(form.text)
    values = {"csrf": token, "baseVersion": re.search(r'name="baseVersion" value="(\d+)"', form.text).group(1),
              "salutation": "Frau", "title": "", "firstName": "Petra", "lastName": who["last_name"],
              "function": "Sachbearbeitung", "email": who["email"], "phone": "+49 000 999-9"}
    bad = await client.post("/me/edit", data={**values, "phone": "ruf mich an!"}, headers={"origin": BASE_URL})
    assert bad.status_code == 400 and 'value="ruf mich an!"' in bad.text and 'href="#phone"' in bad.text
    done = await client.post("/me/edit", data=values, headers={"origin": BASE_URL})
    assert done.status_code == 303, done.text
    me = await client.get("/me?done=changed")
    assert "wartet auf Freigabe" in me.text and "+49 000 999-9" in me.text
    data = await client.get("/me/data.json")
    assert data.status_code == 200 and "attachment" in data.headers["content-disposition"]
    assert who["email"] in data.text


async def test_script_in_names_is_escaped(client, gql, make_user, login):
    username, password = await make_user("ADMIN")
    headers = await login(username, password)
    selm = await org_id("Selm")
    created = await gql("""mutation($input: CooperationInput!) { createCooperation(input: $input) { id } }""",
                        {"input": {"title": "<script>alert(1)</script> Kooperation",
                                   "description": "<img src=x onerror=alert(2)>",
                                   "partners": [{"organizationId": selm, "role": "LEAD"}]}}, headers=headers)
    assert not created.errors, created.errors
    cid = created.data["createCooperation"]["id"]
    for path in (f"/cooperations/{cid}", "/?q=alert", f"/municipalities/{selm}"):
        page = await client.get(path)
        assert "<script>alert(1)</script>" not in page.text and "<img src=x" not in page.text, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (await client.get(f"/cooperations/{cid}")).text
    search = await client.get("/", params={"q": "<script>x</script>"})
    assert "<script>x</script>" not in search.text


async def test_graphiql_is_served_offline(client):
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "unpkg" not in page.text and "cdn" not in page.text.lower()
    for src in re.findall(r'(?:src|href)="(/[^"]+)"', page.text):
        asset = await client.get(src)
        assert asset.status_code == 200 and len(asset.content) > 100, src


async def test_static_pages_and_footer_links(client):
    page = await client.get("/")
    for href in ("/impressum", "/datenschutz", "/static/site.css"):
        assert href in page.text
        assert (await client.get(href)).status_code == 200


async def test_production_hides_graphiql_and_sets_secure_cookies(settings):
    import httpx

    from ikz.app import create_app

    production = create_app(settings.with_overrides(app_env="production"), manage_db=False)
    transport = httpx.ASGITransport(app=production, client=("203.0.113.10", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        assert (await http.get("/graphiql/graphiql.min.js")).status_code == 404
        ide = await http.get("/graphql", headers={"accept": "text/html"})
        assert "graphiql" not in ide.text.lower()
        login = await http.get("/login")
        assert "secure" in login.headers["set-cookie"].lower() and "samesite=strict" in login.headers["set-cookie"].lower()
        assert "/graphql" not in login.text


async def test_every_form_has_the_csrf_token_and_posts_without_it_fail(client, confirmed_contact):
    who = await confirmed_contact("Kamen", [])
    await sign_in(client, who["username"], who["password"])
    for path in ("/me/edit", "/me/password", "/me/delete", "/me/cooperations/new", "/password-reset"):
        page = await client.get(path)
        assert page.status_code == 200, path
        for form in re.findall(r'<form method="post".*?</form>', page.text, re.S):
            assert 'name="csrf"' in form, (path, form[:200])
        refused = await client.post(path, data={"csrf": "x" * 40})
        assert refused.status_code == 403, path
    assert (await client.post("/logout", data={})).status_code == 403
    assert (await client.get("/me")).status_code == 200  # still signed in


async def test_signed_out_visitors_are_sent_to_login_with_a_local_next(client):
    client.cookies.clear()
    for path in ("/me", "/me/edit", "/me/password", "/me/delete", "/me/activate", "/me/cooperations/new",
                 "/me/data.json"):
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=%2Fme"), path
    logout = await client.get("/logout")
    assert logout.status_code == 405 and "Nicht erlaubt" in logout.text


async def test_start_password_login_leads_to_the_activation_steps(client, gql, make_user, login, smtp, deliver):
    username, password = await make_user("ADMIN")
    admin = await login(username, password)
    selm = await org_id("Selm")
    created = await gql("""mutation($input: CreateContactInput!) { createContact(input: $input) { username email } }""",
                        {"input": {"municipalityId": selm, "firstName": "Jutta", "lastName": "Becker-Test",
                                   "email": "jutta.becker-test@example.org"}}, headers=admin)
    assert not created.errors, created.errors
    await deliver()
    from tests.conftest import text_part

    mail = smtp.sink.to("jutta.becker-test@example.org")[-1]
    start = re.search(r"Startpasswort:\s+(\S+)", text_part(mail)).group(1)
    signed = await sign_in(client, created.data["createContact"]["username"], start, next_path="/review?change=1")
    assert signed.status_code == 303 and signed.headers["location"] == "/me/activate"
    assert (await client.get("/me")).headers["location"] == "/me/activate"
    step = await client.get("/me/activate")
    assert step.status_code == 200 and 'name="currentPassword"' in step.text
    token = csrf_of(step.text)
    short = await client.post("/me/activate", data={"csrf": token, "currentPassword": start, "newPassword": "kurz",
                                                    "newPasswordRepeat": "kurz"})
    assert short.status_code == 400 and 'href="#newPassword"' in short.text and start not in short.text
    done = await client.post("/me/activate", data={"csrf": token, "currentPassword": start,
                                                   "newPassword": "Jutta-neues-Passwort-1",
                                                   "newPasswordRepeat": "Jutta-neues-Passwort-1"})
    assert done.status_code == 303 and done.headers["location"] == "/me/activate"
    confirm = await client.get("/me/activate")
    assert 'name="consent"' in confirm.text and 'value="Becker-Test"' in confirm.text
    values = {"csrf": token, "salutation": "", "title": "", "firstName": "Jutta", "lastName": "Becker-Test",
              "function": "Kämmerei", "email": "jutta.becker-test@example.org", "phone": ""}
    missing = await client.post("/me/activate", data=values)
    assert missing.status_code == 400 and 'value="Kämmerei"' in missing.text and 'href="#consent"' in missing.text
    confirmed = await client.post("/me/activate", data={**values, "consent": "yes"})
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/me?done=confirmed"
    me = await client.get("/me?done=confirmed")
    assert me.status_code == 200 and "Danke" in me.text


def form_fields(html: str) -> dict:
    """The values a browser would send for the form's inputs, checked boxes and selected options."""
    values: dict = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        kind = (re.search(r'type="([^"]+)"', tag) or [None, "text"])[1]
        value = re.search(r'value="([^"]*)"', tag)
        if kind == "checkbox" and " checked" not in tag:
            continue
        values.setdefault(name.group(1), []).append(value.group(1) if value else "")
    for select in re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', select[1])
        values[select[0]] = [chosen.group(1) if chosen else ""]
    for name, text in re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        values[name] = [text]
    import html as htmllib

    return {k: [htmllib.unescape(x) for x in v] for k, v in values.items()}


async def test_contact_proposes_a_change_and_a_new_cooperation(client, confirmed_contact):
    cid = await coop_id("unna-kommunen-17")
    who = await confirmed_contact("Selm", ["unna-kommunen-17"])
    await sign_in(client, who["username"], who["password"])
    form = await client.get(f"/me/cooperations/{cid}/propose")
    assert form.status_code == 200 and 'name="partners"' in form.text and 'name="topicFieldIds"' in form.text
    values = form_fields(form.text)
    unchanged = await client.post(f"/me/cooperations/{cid}/propose", data=values)
    assert unchanged.status_code == 400 and "nichts geändert" in unchanged.text
    values["notes"] = ["Neue Leitstelle <b>2026</b>"]
    values["startYear"] = ["19x4"]
    bad = await client.post(f"/me/cooperations/{cid}/propose", data=values)
    assert bad.status_code == 400 and 'href="#startYear"' in bad.text and "Neue Leitstelle &lt;b&gt;2026" in bad.text
    values["startYear"] = ["1994"]
    done = await client.post(f"/me/cooperations/{cid}/propose", data=values)
    assert done.status_code == 303 and done.headers["location"] == "/me?done=proposed"
    me = await client.get("/me")
    assert "Änderung einer Kooperation" in me.text and "Neue Leitstelle &lt;b&gt;2026&lt;/b&gt;" in me.text

    blank = await client.get("/me/cooperations/new")
    values = form_fields(blank.text)
    assert values["partners"] == [who["organization_id"]]
    missing = await client.post("/me/cooperations/new", data={**values, "description": "Gemeinsamer Bauhof"})
    assert missing.status_code == 400 and 'href="#title"' in missing.text and "Gemeinsamer Bauhof" in missing.text
    created = await client.post("/me/cooperations/new", data={**values, "title": "Gemeinsamer Bauhof Selm"})
    assert created.status_code == 303, created.text
    assert "neue Kooperation" in (await client.get("/me")).text


async def test_a_throttled_sign_in_says_how_long_to_wait(client, make_user):
    username, password = await make_user("APPROVER")
    answers = [await sign_in(client, username, "falsch-falsch-falsch") for _ in range(7)]
    assert all(a.status_code == 400 for a in answers)
    assert "Benutzername oder Passwort ist falsch" in answers[0].text
    waited = re.search(r"bitte warten Sie (\d+) Sekunden?", answers[-1].text)
    assert waited and 1 <= int(waited.group(1)) <= 900, answers[-1].text


async def test_public_pages_revalidate_with_etag_until_the_data_change(client, make_user):
    from service import publication

    client.cookies.clear()
    first = await client.get("/", params={"q": "Rettungsdienst"})
    tag = first.headers["etag"]
    assert first.status_code == 200 and tag.startswith('W/"')
    assert first.headers["cache-control"] == "no-cache" and first.headers["vary"] == "Cookie"
    again = await client.get("/", params={"q": "Rettungsdienst"}, headers={"if-none-match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    other = await client.get("/", params={"q": "Abwasser"}, headers={"if-none-match": tag})
    assert other.status_code == 200 and other.headers["etag"] != tag  # another query, another page
    profile = await client.get(f"/cooperations/{await coop_id('unna-kommunen-05')}")
    assert profile.status_code == 200 and profile.headers["etag"] not in (tag, other.headers["etag"])

    await publication.bump()  # what every approval does in its transaction
    changed = await client.get("/", params={"q": "Rettungsdienst"}, headers={"if-none-match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag and "Rettungsdienst" in changed.text

    username, password = await make_user("APPROVER")
    await sign_in(client, username, password, "/")
    signed_in = await client.get("/", params={"q": "Rettungsdienst"}, headers={"if-none-match": changed.headers["etag"]})
    assert signed_in.status_code == 200 and "etag" not in signed_in.headers
    assert signed_in.headers["cache-control"] == "no-store"
    client.cookies.clear()

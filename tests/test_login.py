"""Login, sessions, throttling, password change and reset."""

from __future__ import annotations

import asyncio
import re

import datetime as dt

import pytest
from argon2 import PasswordHasher

from service.accounts import throttle
from service.accounts.models import Account, LoginThrottle, Session
from service.time import now
from tests.conftest import LOGIN, link_in, text_part, unique

ME = "{ me { username roles { role } } }"


async def test_login_with_bearer_and_cookie_then_logout(gql, client, make_user):
    username, password = await make_user("ADMIN")
    response = await client.post("/graphql", json={"query": LOGIN, "variables": {"u": username, "p": password}})
    body = response.json()
    assert body["data"]["login"]["me"]["username"] == username
    cookie = response.headers["set-cookie"]
    assert "ikz_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie  # development; production sets Secure (see test_config)
    token = body["data"]["login"]["token"]
    assert (await gql(ME, headers={"authorization": f"Bearer {token}"})).data["me"]["username"] == username
    client.cookies.set("ikz_session", token)
    by_cookie = await client.post("/graphql", json={"query": ME})
    assert by_cookie.json()["data"]["me"]["username"] == username
    client.cookies.clear()
    await gql("mutation { logout }", headers={"authorization": f"Bearer {token}"})
    assert (await gql(ME, headers={"authorization": f"Bearer {token}"})).data["me"] is None


async def test_failures_answer_one_generic_message(gql, make_user):
    username, password = await make_user("ADMIN")
    unknown = await gql(LOGIN, {"u": unique("nobody"), "p": password})
    wrong = await gql(LOGIN, {"u": username, "p": password + "x"})
    assert unknown.errors[0]["message"] == wrong.errors[0]["message"] == "Unknown username or wrong password."
    assert unknown.codes == wrong.codes == ["UNAUTHENTICATED"]


async def test_every_login_costs_one_argon2_verification(gql, make_user, monkeypatch):
    """An unknown username takes as long as a wrong password: the same argon2 work is done."""
    calls = []
    real_verify = PasswordHasher.verify

    def counting_verify(self, hash_, password):
        calls.append(1)
        return real_verify(self, hash_, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    username, password = await make_user("ADMIN")
    for user, pw in ((unique("ghost"), "whatever-123"), (username, "wrong-password-1"), (username, password)):
        calls.clear()
        await gql(LOGIN, {"u": user, "p": pw})
        assert len(calls) == 1, user


async def test_failed_logins_slow_down_per_username_and_address(gql, make_user):
    """More in tests/security/test_login_lockout.py; here: a real and an unknown username alike."""
    username, password = await make_user("ADMIN")
    ghost = unique("ghost")
    for name in (username, ghost):  # an unknown username is throttled the same way: it reveals nothing
        for _ in range(throttle.FREE_FAILURES - 1):
            assert (await gql(LOGIN, {"u": name, "p": "not-it-123"})).codes == ["UNAUTHENTICATED"]
        # The last free guess and one more at once: one is verified, the other must wait.
        both = await asyncio.gather(gql(LOGIN, {"u": name, "p": "not-it-124"}), gql(LOGIN, {"u": name, "p": "not-it-125"}))
        assert sorted(r.codes[0] for r in both) == ["TOO_MANY_ATTEMPTS", "UNAUTHENTICATED"]
        blocked = next(r for r in both if r.codes == ["TOO_MANY_ATTEMPTS"])
        assert "Try again in" in blocked.errors[0]["message"]
    # The wait runs out (never a permanent lock-out), and success clears the (username, address) record.
    await LoginThrottle.all().update(blocked_until_ms=0)
    assert not (await gql(LOGIN, {"u": username, "p": password})).errors
    assert not await LoginThrottle.filter(key=throttle.PAIR.key(username, "203.0.113.10")).exists()
    await LoginThrottle.all().delete()


def test_delay_grows_exponentially_and_is_capped():
    delays = [throttle.delay_after(n) for n in range(throttle.FREE_FAILURES, throttle.FREE_FAILURES + 6)]
    assert delays == [dt.timedelta(seconds=2 ** i) for i in range(6)]
    assert throttle.delay_after(10_000) == throttle.MAX_DELAY
    assert throttle.delay_after(0) == dt.timedelta(0)


async def test_sessions_expire_when_idle_and_absolutely(gql, make_user, login):
    headers = await login(*await make_user("ADMIN"))
    session = await Session.all().order_by("-id").first()
    await Session.filter(id=session.id).update(last_seen_at=now() - dt.timedelta(hours=3))
    assert (await gql(ME, headers=headers)).data["me"] is None
    headers = await login(*await make_user("ADMIN"))
    session = await Session.all().order_by("-id").first()
    await Session.filter(id=session.id).update(expires_at=now() - dt.timedelta(seconds=1))
    assert (await gql(ME, headers=headers)).data["me"] is None


async def test_password_change_ends_other_sessions(gql, make_user, login):
    username, password = await make_user("ADMIN")
    first, second = await login(username, password), await login(username, password)
    change = """mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { username } }"""
    wrong = await gql(change, {"c": "nope-nope-nope", "n": "Brand-new-secret-9"}, headers=first)
    assert wrong.codes == ["BAD_USER_INPUT"]
    weak = await gql(change, {"c": password, "n": "passwort123"}, headers=first)
    assert weak.codes == ["BAD_USER_INPUT"] and "common" in weak.errors[0]["message"]
    assert not (await gql(change, {"c": password, "n": "Brand-new-secret-9"}, headers=first)).errors
    assert (await gql(ME, headers=first)).data["me"]["username"] == username
    assert (await gql(ME, headers=second)).data["me"] is None
    assert not (await gql(LOGIN, {"u": username, "p": "Brand-new-secret-9"})).errors


async def test_hash_is_upgraded_at_login_when_parameters_change(gql, make_user):
    username, password = await make_user("ADMIN")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(password)
    await Account.filter(username=username).update(password_hash=weak)
    assert not (await gql(LOGIN, {"u": username, "p": password})).errors
    upgraded = (await Account.get(username=username)).password_hash
    assert upgraded != weak and upgraded.startswith("$argon2id$") and "m=19456,t=2" in upgraded


async def test_password_reset_by_mail(gql, client, make_user, login, smtp, deliver):
    username, password = await make_user("ADMIN")
    other_session = await login(username, password)
    request = "mutation($v: String!) { requestPasswordReset(usernameOrEmail: $v) }"
    assert (await gql(request, {"v": username})).data == {"requestPasswordReset": True}
    assert (await gql(request, {"v": unique("nobody")})).data == {"requestPasswordReset": True}
    assert await deliver() == 1
    [message] = smtp.sink.to(f"{username}@example.org")
    link = link_in(message, "/reset-password")
    assert "60 Minuten" in text_part(message)
    token = link.split("token=")[1]
    form = await client.get(link)
    assert form.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    page = await client.post("/reset-password", data={"csrf": csrf, "token": token, "newPassword": "Frisch-und-neu-77",
                                                       "newPasswordRepeat": "Frisch-und-neu-77"})
    assert page.status_code == 200 and "Passwort geändert" in page.text
    assert (await gql(ME, headers=other_session)).data["me"] is None  # all sessions ended
    assert not (await gql(LOGIN, {"u": username, "p": "Frisch-und-neu-77"})).errors
    reuse = await gql("mutation($t: String!) { resetPassword(token: $t, newPassword: \"Noch-ein-neues-8\") }",
                      {"t": token})
    assert reuse.codes == ["BAD_USER_INPUT"] and "already used" in reuse.errors[0]["message"]


@pytest.mark.parametrize("roles", [("ADMIN",), ("APPROVER",)])
async def test_staff_accounts_need_no_onboarding(gql, make_user, login, roles):
    headers = await login(*await make_user(*roles))
    me = (await gql("{ me { requiredActions roles { role scope { name } } } }", headers=headers)).data["me"]
    assert me["requiredActions"] == [] and [r["role"] for r in me["roles"]] == list(roles)

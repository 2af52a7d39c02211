"""SECRET_KEY rotation (issue 9.4): with the old key in SECRET_KEY_FALLBACKS, queued mail sealed
under it is still delivered and links, initial passwords and sessions made under it still work;
new values are made under the new key only. Sub-keys come from HKDF, one per use."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

import pytest

from service.accounts import secrets as keys
from service.accounts.contact_data import ContactData
from service.accounts.onboarding import NewContact, TokenInvalid, create_and_invite, find_activation
from service.config import ConfigError, get_settings, load_settings, set_settings
from service.mail.models import MailStatus, OutboxMail
from service.mail.worker import deliver_due
from service.sql import fetch
from tests.conftest import link_in, text_part, unique

ME = "{ me { username requiredActions } }"


@pytest.fixture
def rotate(settings):
    """Switch this process to a new SECRET_KEY (optionally keeping the old one as a fallback)."""
    original = get_settings()

    def run(*, keep_old: bool):
        rotated = original.with_overrides(secret_key=secrets.token_urlsafe(48),
                                          secret_key_fallbacks=(original.secret_key,) if keep_old else ())
        set_settings(rotated)
        return rotated

    yield run
    set_settings(original)


@pytest.fixture(autouse=True)
async def isolate_outbox(database):
    await OutboxMail.filter(status__in=[MailStatus.PENDING, MailStatus.SENDING]).update(
        status=MailStatus.FAILED, last_error="parked by test isolation")


async def invite_someone() -> tuple[int, str]:
    org = (await fetch("SELECT id FROM organization WHERE name = 'Kamen'"))[0]["id"]
    last = unique("Rotation")
    contact, account = await create_and_invite(
        NewContact(org, ContactData(first_name="Rita", last_name=last, email=f"{last.lower()}@example.org")), actor=None)
    return (await OutboxMail.get(account_id=account.id)).id, account.username


def smtp_of(settings, smtp):
    return settings.with_overrides(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False, smtp_timeout=5)


async def test_mail_queued_and_link_made_under_the_old_key_work_after_rotation(gql, smtp, rotate):
    mail_id, username = await invite_someone()  # sealed, token and initial password hashed under the old key
    new = rotate(keep_old=True)
    assert (await deliver_due(smtp_of(new, smtp))).sent == 1
    assert (await OutboxMail.get(id=mail_id)).status is MailStatus.SENT
    [message] = smtp.sink.messages
    token = link_in(message, "/activate").rsplit("token=", 1)[1]
    activation = await find_activation(token)
    assert activation.account.username == username
    initial = re.search(r"[A-HJ-NP-Za-km-z2-9]{5}-[A-HJ-NP-Za-km-z2-9]{5}-[A-HJ-NP-Za-km-z2-9]{5}",
                        text_part(message)).group(0)
    login = await gql('mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }',
                      {"u": username, "p": initial})
    assert not login.errors, login.errors


async def test_without_the_old_key_the_queued_mail_fails_with_its_reason(smtp, rotate):
    mail_id, _ = await invite_someone()
    new = rotate(keep_old=False)
    result = await deliver_due(smtp_of(new, smtp))
    assert (result.sent, result.failed) == (0, 1)
    mail = await OutboxMail.get(id=mail_id)
    assert mail.status is MailStatus.FAILED and "SECRET_KEY" in mail.last_error


async def test_session_opened_under_the_old_key_survives_rotation(gql, make_user, login, rotate):
    headers = await login(*await make_user("ADMIN"))
    rotate(keep_old=True)
    assert (await gql(ME, headers=headers)).data["me"] is not None
    rotate(keep_old=False)  # the key it was made under is now neither current nor a fallback
    assert (await gql(ME, headers=headers)).data["me"] is None


async def test_new_values_use_the_new_key_only(smtp, rotate):
    old = get_settings().secret_key
    new = rotate(keep_old=True)
    await invite_someone()
    assert (await deliver_due(smtp_of(new, smtp))).sent == 1
    token = link_in(smtp.sink.messages[0], "/activate").rsplit("token=", 1)[1]
    await find_activation(token)
    set_settings(new.with_overrides(secret_key=old, secret_key_fallbacks=()))  # the old key alone: not valid
    with pytest.raises(TokenInvalid):
        await find_activation(token)


def test_sub_keys_come_from_hkdf_one_per_use():
    key = secrets.token_urlsafe(48)
    a, b = keys.derive_key(key, "hmac:activation"), keys.derive_key(key, "fernet:mail-outbox")
    assert len(a) == len(b) == 32 and a != b and key.encode() not in (a, b)
    assert keys.derive_key(key, "hmac:activation") == a  # deterministic
    # Not the bare constructions of the earlier scheme.
    assert a != hashlib.sha256(f"activation:{key}".encode()).digest()
    set_before = get_settings()
    set_settings(set_before.with_overrides(secret_key=key))
    try:
        assert keys.keyed_hash("t", "activation") != hmac.new(key.encode(), b"activation:t", hashlib.sha256).hexdigest()
        assert keys.matches("t", keys.keyed_hash("t", "activation"), "activation")
        assert not keys.matches("t", keys.keyed_hash("t", "reset"), "activation")
    finally:
        set_settings(set_before)


def test_fallbacks_from_the_environment(tmp_path):
    current, old1, old2 = (secrets.token_urlsafe(40) for _ in range(3))
    env = {"VAR_DIR": str(tmp_path), "SECRET_KEY": current, "SECRET_KEY_FALLBACKS": f"{old1}, {old2} {current}"}
    assert load_settings(env).secret_key_fallbacks == (old1, old2)
    production = {**env, "APP_ENV": "production", "PUBLIC_BASE_URL": "https://ikz.example.org",
                  "SECRET_KEY_FALLBACKS": "short"}
    with pytest.raises(ConfigError, match="SECRET_KEY_FALLBACKS"):
        load_settings(production)
    assert load_settings({"VAR_DIR": str(tmp_path)}).secret_key_fallbacks == ()

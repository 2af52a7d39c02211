"""Issue 10.9: requestPasswordReset must not flood a mailbox.

Per account one mail per 5 minutes and at most 3 a day; per client address at most 10 requests
an hour. The answer is `true` every time, whether a mail goes out or not.
"""

from __future__ import annotations

from service.accounts import throttle
from service.accounts.models import Account, LoginThrottle
from service.mail.models import OutboxMail

REQUEST = "mutation($v: String!) { requestPasswordReset(usernameOrEmail: $v) }"


async def reset_mails(username: str) -> int:
    account = await Account.get(username=username)
    return await OutboxMail.filter(account_id=account.id, template="password_reset").count()


async def _later(minutes: float) -> None:
    """Move every throttle record back in time, as if `minutes` had passed."""
    shift = int(minutes * 60_000)
    for row in await LoginThrottle.all():
        row.window_started_ms -= shift
        row.last_ms -= shift
        if row.blocked_until_ms is not None:
            row.blocked_until_ms -= shift
        await row.save()


async def test_ten_requests_send_one_mail(gql_from, make_user):
    username, _ = await make_user("ADMIN")
    ask = gql_from("198.51.100.20")
    answers = [(await ask(REQUEST, {"v": username})).data for _ in range(10)]
    assert answers == [{"requestPasswordReset": True}] * 10
    assert await reset_mails(username) == 1


async def test_username_email_and_other_addresses_share_the_accounts_limit(gql_from, make_user):
    username, _ = await make_user("ADMIN", email=None)
    email = f"{username}@example.org"
    for n, value in enumerate([username, email, email.upper(), username]):
        assert (await gql_from(f"198.51.100.{30 + n}")(REQUEST, {"v": value})).data == {"requestPasswordReset": True}
    assert await reset_mails(username) == 1


async def test_one_mail_per_five_minutes_and_a_few_per_day(gql_from, make_user):
    username, _ = await make_user("ADMIN")
    ask = gql_from("198.51.100.21")
    await ask(REQUEST, {"v": username})
    await _later(4)
    await ask(REQUEST, {"v": username})
    assert await reset_mails(username) == 1  # 4 minutes later: still the one mail
    for expected in (2, 3, 3, 3):
        await _later(5.1)
        await ask(REQUEST, {"v": username})
        assert await reset_mails(username) == expected  # the daily cap holds after the third
    await _later(24 * 60)
    await ask(REQUEST, {"v": username})
    assert await reset_mails(username) == 4  # the next day the owner can ask again


async def test_one_address_asking_for_many_accounts_is_limited(gql_from, make_user):
    users = [(await make_user("ADMIN"))[0] for _ in range(throttle.RESET_ADDRESS.free + 2)]
    ask = gql_from("198.51.100.22")
    for username in users:
        assert (await ask(REQUEST, {"v": username})).data == {"requestPasswordReset": True}
    sent = [await reset_mails(u) for u in users]
    assert sent == [1] * throttle.RESET_ADDRESS.free + [0, 0]
    # Another address is not held back by it, and the owners' accounts are not blocked.
    await gql_from("198.51.100.23")(REQUEST, {"v": users[-1]})
    assert await reset_mails(users[-1]) == 1

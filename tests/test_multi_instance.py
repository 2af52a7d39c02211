"""Several instances on one PostgreSQL database: two `ikz serve` processes (different ports) and two
`ikz worker` processes. A session opened on one instance works on the other, login throttling is
shared, and no mail goes out twice (the SMTP sink counts Message-IDs).

Slow (real processes, about 20 s) and bounded: every wait has a deadline, every process is stopped
by its pid and killed if it does not stop.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import TEST_DATABASE_URL, discard_database, requires_postgres
from tests.processes import IkzProcess, free_port, ikz_env, post_json, run_cli

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.slow]

LOGIN = "mutation Login($u: String!, $p: String!) { login(username: $u, password: $p) { token } }"
CREATE = """mutation Invite($input: CreateContactInput!) { createContact(input: $input) { id state } }"""


def gql(port: int, query: str, variables: dict | None = None, token: str | None = None) -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return post_json(port, "/graphql", {"query": query, "variables": variables or {}}, headers)


def codes(result: dict) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors") or []]


@pytest.fixture
async def cluster(tmp_path, smtp):
    from service.db import create_database_beside

    url = await create_database_beside(TEST_DATABASE_URL, "ikz_multi")
    secret = "m" * 48
    env = ikz_env(url, tmp_path / "var", secret, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port), SMTP_STARTTLS="false")
    processes: list[IkzProcess] = []
    try:
        for args in (["migrate"], ["seed"]):
            result = run_cli(args, env)
            assert result.returncode == 0, result.stdout + result.stderr
        made = run_cli(["create-user", "--role", "admin", "--username", "verbund", "--email", "verbund@example.org",
                        "--first-name", "Vera", "--last-name", "Bund", "--password-stdin"], env,
                       stdin="Ein-langes-Passwort-1\n")
        assert made.returncode == 0, made.stderr
        ports = [free_port(), free_port()]
        for port in ports:
            processes.append(IkzProcess(["serve", "--port", str(port)], env, tmp_path / f"serve-{port}.log"))
        for n in range(2):
            processes.append(IkzProcess(["worker"], env, tmp_path / f"worker-{n}.log"))
        for process, port in zip(processes, ports):
            process.wait_ready(port)
        yield ports, processes
    finally:
        for process in processes:
            process.terminate()
        await discard_database(url)


async def test_two_instances_share_sessions_throttling_and_the_outbox(cluster, smtp):
    (a, b), processes = cluster

    # A session opened on A works on B.
    token = gql(a, LOGIN, {"u": "verbund", "p": "Ein-langes-Passwort-1"})["data"]["login"]["token"]
    assert gql(b, "{ me { username } }", token=token)["data"]["me"]["username"] == "verbund"

    # Failures on A count on B: five free per username in all, alternating between the instances.
    victim = f"ghost{uuid.uuid4().hex[:6]}"
    for n in range(5):
        failed = gql((a, b)[n % 2], LOGIN, {"u": victim, "p": "falsches-passwort"})
        assert codes(failed) == ["UNAUTHENTICATED"], failed
    throttled = gql(b, LOGIN, {"u": victim, "p": "falsches-passwort"})  # B itself saw only two failures
    assert codes(throttled) == ["TOO_MANY_ATTEMPTS"], throttled

    # No mail twice: invitations created on both instances, delivered by two competing workers.
    selm = gql(a, '{ municipalities(search: "Selm", first: 1) { edges { node { id } } } }')
    municipality = selm["data"]["municipalities"]["edges"][0]["node"]["id"]
    count = 24

    def create(n: int) -> dict:
        last = f"Verteilt{n}x{uuid.uuid4().hex[:4]}"
        return gql((a, b)[n % 2], CREATE, {"input": {"municipalityId": municipality, "firstName": "Mara",
                                                     "lastName": last, "email": f"{last.lower()}@example.org"}},
                   token=token)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(create, range(count)))
    assert all(not r.get("errors") for r in results), [r for r in results if r.get("errors")]

    deadline = time.monotonic() + 40
    while len(smtp.sink.messages) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # any duplicate would arrive now
    ids = Counter(m["Message-ID"] for m in smtp.sink.messages)
    assert len(ids) == count, (len(ids), [p.log()[-2000:] for p in processes[2:]])
    assert max(ids.values()) == 1, [i for i, n in ids.items() if n > 1]
    worker_logs = "".join(p.log() for p in processes[2:])
    assert "mail worker started" in worker_logs

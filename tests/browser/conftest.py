"""Browser tests: Playwright for Python driving Debian's Chromium against a real uvicorn server.

- `live_server`: `uvicorn ikz.app:create_app` in a subprocess on a free loopback port, on the run's
  test database, with its mail worker delivering to an SMTP sink of this package (`browser_smtp`).
- `page`: a fresh browser context per test; when the test fails, a screenshot goes to
  `test-screenshots/<test>.png` (the path is printed).
- `check_a11y(page)`: axe-core (from axe-playwright-python) on the page: no serious or critical violation.

Without /usr/bin/chromium the tests skip with the reason; with CI=true they fail instead.
The fixtures are meant for every page's browser tests (public, contact persons, ministry).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import SmtpServer, free_port

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-screenshots"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _require_browser() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    if IN_CI:
        pytest.fail(f"browser tests must run in CI: {reason}")
    pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="package")
def browser_smtp():
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


class LiveServer:
    def __init__(self, url: str, process: subprocess.Popen, log: Path, env: dict[str, str]) -> None:
        self.url = url
        self.process = process
        self.log = log
        self.env = env

    def create_user(self, *roles: str, scope: str | None = None) -> tuple[str, str]:
        """A ministry account made with `ikz create-user` (the browser's event loop rules out async fixtures)."""
        import uuid

        username = "web" + uuid.uuid4().hex[:10]
        password = f"Pw-{uuid.uuid4().hex}"
        command = [sys.executable, "-c", "import sys; from ikz.cli import main; sys.exit(main())", "create-user",
                   "--username", username, "--email", f"{username}@example.org", "--first-name", "Test",
                   "--last-name", "Web", "--password-stdin"]
        for role in roles:
            command += ["--role", role.lower()]
        if scope:
            command += ["--scope", scope]
        done = subprocess.run(command, input=password + "\n", text=True, capture_output=True, cwd=REPO, env=self.env,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        return username, password

    def graphql(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}},
                              headers=headers, timeout=30)
        response.raise_for_status()
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def login_token(self, username: str, password: str) -> str:
        data = self.graphql("mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
                            {"u": username, "p": password})
        return data["login"]["token"]


@pytest.fixture(scope="package")
def live_server(settings, browser_smtp, tmp_path_factory):
    """The app served by uvicorn in a subprocess (real HTTP, real cookies), on the run's database."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    var_dir = tmp_path_factory.mktemp("live-var")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "DATABASE_", "APP_"))},
        "APP_ENV": "development", "VAR_DIR": str(var_dir), "DATABASE_URL": settings.database_url,
        "PUBLIC_BASE_URL": url, "SECRET_KEY": settings.secret_key, "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(browser_smtp.port), "SMTP_STARTTLS": "false", "RUN_MAIL_WORKER": "true",
    }
    log = var_dir / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "ikz.app:create_app", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/static/site.css", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the live server did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)
    yield LiveServer(url, process, log, env)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="package")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(base_url=live_server.url, locale="de-DE")
    context.set_default_timeout(15000)
    tab = context.new_page()
    yield tab
    failed = any(getattr(getattr(request.node, f"report_{when}", None), "failed", False)
                 for when in ("setup", "call"))
    if failed:
        SCREENSHOTS.mkdir(exist_ok=True)
        target = SCREENSHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid) + ".png")
        try:
            tab.screenshot(path=str(target), full_page=True)
            print(f"\nscreenshot of the failed browser test: {target}\nserver log: {live_server.log}")
        except Exception as exc:  # the page may be gone
            print(f"\nno screenshot: {exc}")
    context.close()


@pytest.fixture(scope="package")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture
def check_a11y(axe):
    """Run axe-core on the current page; fail on any serious or critical violation."""

    def check(tab) -> None:
        results = axe.run(tab)
        bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
        assert not bad, f"{tab.url}: " + "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in bad)

    return check


def wait_for_mail(sink, address: str, subject_part: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in sink.sink.to(address) if subject_part in m["Subject"]]
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no mail '{subject_part}' to {address}; got {[m['Subject'] for m in sink.sink.messages]}")

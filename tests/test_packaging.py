"""A built wheel runs on its own: built from a copy of the source, installed into a fresh virtual
environment (dependencies borrowed from the test environment through a path entry, so no network is
needed, and without the editable install's path to this checkout), then `ikz migrate`, `ikz seed`,
a mail rendered and delivered, a page rendered and `ikz serve` answering, all from a directory
outside the repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.conftest import discard_database, fresh_database_url, text_part
from tests.processes import ROOT, IkzProcess, free_port, ikz_env, run_cli

IGNORED = shutil.ignore_patterns(".git", ".venv", "var", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                                 ".hypothesis", "*.pyc")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The fresh environment's bin/ directory, with only the wheel of this project installed."""
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w",
                            str(work / "dist")], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next((work / "dist").glob("ikz-*.whl"))
    env_dir = work / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    target = Path(subprocess.check_output([str(env_dir / "bin" / "python"), "-c",
                                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    # The dependencies, from the test environment: a plain path entry (its .pth files, among them the
    # editable install's pointer to this checkout, are not processed).
    (target / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(env_dir / "bin" / "python"), "install",
                                "--no-deps", "--no-index", "-q", str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return env_dir / "bin"


@pytest.mark.slow
def test_wheel_holds_every_data_file(installed):
    """Whatever files anyone adds to these directories ship, by glob."""
    import zipfile

    wheel = next((installed.parent.parent / "dist").glob("ikz-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(p.relative_to(ROOT)) for d in ("mail_templates", "seeds", "ikz/templates", "service/migrations")
                for p in (ROOT / d).rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc")}
    expected |= {"service/accounts/common_passwords.txt", "schema/schema.graphql"}
    assert expected - names == set()


@pytest.mark.slow
async def test_installed_wheel_migrates_seeds_mails_and_serves(installed, tmp_path, smtp):
    import json
    import urllib.request

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    python = str(installed / "python")
    where = subprocess.run([python, "-c", "import ikz, seeds, mail_templates, service; "
                                          "print(ikz.__file__, seeds.__file__, mail_templates.__file__, service.__file__)"],
                           cwd=outside, capture_output=True, text=True)
    assert where.returncode == 0, where.stderr
    assert str(ROOT) not in where.stdout and all(str(installed.parent) in p for p in where.stdout.split()), where.stdout

    url = await fresh_database_url(tmp_path)
    try:
        env = ikz_env(url, tmp_path / "var", "p" * 40, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port),
                      SMTP_STARTTLS="false")
        ikz = [str(installed / "ikz")]
        for args in (["migrate"], ["seed"]):
            result = run_cli(args, env, command=ikz, cwd=outside)
            assert result.returncode == 0, result.stdout + result.stderr
        assert "Seeded:" in result.stdout

        weak = run_cli(["create-user", "--role", "admin", "--username", "paket", "--email", "paket@example.org",
                        "--first-name", "Pa", "--last-name", "Ket", "--password-stdin"], env, command=ikz, cwd=outside,
                       stdin="1234567890\n")
        assert weak.returncode == 1 and "too common" in weak.stderr  # common_passwords.txt shipped

        csv_file = tmp_path / "contacts.csv"
        csv_file.write_text("municipality;first_name;last_name;email\nselm;Paula;Paket;paula.paket@example.org\n",
                            encoding="utf-8")
        imported = run_cli(["contacts", "import", str(csv_file)], env, command=ikz, cwd=outside)
        assert imported.returncode == 0, imported.stdout + imported.stderr
        invited = run_cli(["invite", "--pending"], env, command=ikz, cwd=outside)
        assert invited.returncode == 0, invited.stdout + invited.stderr
        mails = smtp.sink.to("paula.paket@example.org")
        assert len(mails) == 1 and "/activate?token=" in text_part(mails[0])
        assert mails[0].get_body(("html",)) is not None

        port = free_port()
        server = IkzProcess(["serve", "--port", str(port)], env, tmp_path / "serve.log", command=ikz, cwd=outside)
        try:
            server.wait_ready(port)
            request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql",
                                             data=json.dumps({"query": "{ topicFields { id } }"}).encode(),
                                             headers={"content-type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200 and json.loads(response.read())["data"]["topicFields"]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/activate?token=not-a-token", timeout=10) as page:
                assert "text/html" in page.headers["content-type"] and "<html" in page.read().decode().lower()
        except urllib.error.HTTPError as exc:  # the invalid-link page may answer 4xx; it must still render
            body = exc.read().decode()
            assert "<html" in body.lower(), body
        finally:
            server.terminate()
    finally:
        await discard_database(url)

"""Real `ikz` processes for the operations, packaging and multi-instance tests.

Every process is started in a session of its own, stopped by its own pid, and killed when
it does not stop in time; logs go to a file that a failing test prints.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ikz_env(database_url: str, var_dir: Path, secret_key: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TEST_", "DATABASE_URL", "SMTP_", "PROMETHEUS_", "APP_ENV", "FORWARDED_",
                                "METRICS_", "LOG_FORMAT", "RUN_MAIL_WORKER", "PYTEST_"))}
    env.update({"DATABASE_URL": database_url, "VAR_DIR": str(var_dir), "SECRET_KEY": secret_key,
                "PUBLIC_BASE_URL": "https://ikz.example.org", "APP_ENV": "development", "RUN_MAIL_WORKER": "false"})
    env.update(extra)
    return env


class IkzProcess:
    def __init__(self, args: list[str], env: dict[str, str], log: Path, *, command: list[str] | None = None,
                 cwd: Path = ROOT) -> None:
        self.log_path = log
        self._log = open(log, "wb")
        self.proc = subprocess.Popen([*(command or [sys.executable, "-m", "ikz.cli"]), *args], env=env, cwd=cwd,
                                     stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, port: int, timeout: float = 40.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"ikz exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"ikz did not answer on port {port} within {timeout}s:\n{self.log()}")

    def terminate(self, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # its own process group: this process and its workers
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode


def post_json(port: int, path: str, payload: dict, headers: dict | None = None, timeout: float = 30) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(payload).encode(),
                                     headers={"content-type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def run_cli(args: list[str], env: dict[str, str], *, stdin: str | None = None, command: list[str] | None = None,
            cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*(command or [sys.executable, "-m", "ikz.cli"]), *args], env=env, cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=timeout)

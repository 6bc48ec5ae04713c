"""Run the real hub (gunicorn, one gevent worker) on a free port with its files in a temp dir."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "integration-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class HubProcess:
    """`with HubProcess(tmp_path) as hub: hub.post("/api/...", json=...)`."""

    def __init__(self, directory: Path, **env):
        self.directory = Path(directory)
        self.port = free_port()
        self.extra_env = {key: str(value) for key, value in env.items()}
        self.process: subprocess.Popen | None = None
        self.log_path = self.directory / "hub.log"
        self.http = requests.Session()
        self.http.headers["X-API-Key"] = API_KEY

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict:
        env = {key: value for key, value in os.environ.items() if not key.startswith("HUB_")}
        env.update(PORT=str(self.port), HOST="127.0.0.1", HUB_API_KEY=API_KEY,
                   HUB_DATABASE_URL=f"sqlite:///{self.directory / 'hub.db'}",
                   HUB_SESSIONS_DIR=str(self.directory / "sessions"),
                   HUB_UPLOADS_DIR=str(self.directory / "uploads"),
                   HUB_SESSIONS_CONFIG=str(self.directory / "sessions.config.json"),
                   HUB_PUBLIC_URL=self.url, HUB_ENGINE="sandbox", HUB_LOG_FORMAT="json",
                   HUB_RATE_LIMIT="off")  # the suite's floods measure other things; limit tests set their own
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 30) -> HubProcess:
        self.launch()
        self.wait_healthy(timeout)
        return self

    def launch(self) -> None:
        """Start gunicorn without waiting for it (start several at once, then `wait_healthy` each)."""
        log = self.log_path.open("ab")
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.process = subprocess.Popen([gunicorn, "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                                        env=self.environment(), stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.logs()[-3000:]}")
            try:
                if requests.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"hub not healthy after {timeout}s:\n{self.logs()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def kill(self) -> None:
        """kill -9 the whole process group (master and worker): a crash."""
        self.stop(signal.SIGKILL)

    def restart(self) -> HubProcess:
        self.stop()
        return self.start()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def worker_pid(self) -> int:
        """The pid of the gunicorn worker (the master's only child)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return int(children[0])

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.http.request(method, self.url + path, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def sandbox_sent(self, session_id: str) -> list[dict]:
        """What the session's sandbox phone sent; [] while the session is not running (after a restart)."""
        answer = self.get(f"/api/sandbox/{session_id}/sent")
        return answer.json()["messages"] if answer.status_code == 200 else []

    def wait_for(self, predicate, timeout: float = 10, interval: float = 0.05):
        """Poll `predicate()` until it returns something truthy; return that."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(interval)
        raise TimeoutError("condition not met in time")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

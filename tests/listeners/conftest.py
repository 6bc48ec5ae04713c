"""A real hub (gunicorn) with a connected sandbox session "shop", shared by the listener tests,
and a way to run a listener (`python -m listeners...`) as a subprocess."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.integration.hubproc import API_KEY, ROOT, HubProcess, free_port


@pytest.fixture(scope="package")
def live_hub(tmp_path_factory):
    hub = HubProcess(tmp_path_factory.mktemp("hub"), HUB_RETRY_SCHEDULE="1s,1s,1s")
    with hub:
        assert hub.post("/api/sessions",
                        json={"sessionId": "shop", "engine": "sandbox", "start": True}).status_code == 201
        assert hub.post("/api/sandbox/shop/scan", json={}).status_code == 200
        yield hub


class ListenerProcess:
    """`python -m <module>` with the hub's URL and key in its environment, on a free port."""

    def __init__(self, module: str, hub: HubProcess, log_path, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhook"
        environment = {**os.environ, "HUB_URL": hub.url, "HUB_API_KEY": API_KEY,
                       "LISTEN_PORT": str(self.port), "CHECK_INTERVAL": "0.3", **env}
        self.log_path = log_path
        self.process = subprocess.Popen([sys.executable, "-m", module], cwd=ROOT, env=environment,
                                        stdout=log_path.open("w"), stderr=subprocess.STDOUT)

    def logs(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def run_listener(tmp_path):
    started = []

    def run(module: str, hub: HubProcess, **env) -> ListenerProcess:
        listener = ListenerProcess(module, hub, tmp_path / f"{module}.log", **env)
        started.append(listener)
        return listener

    yield run
    for listener in started:
        listener.stop()

"""Running the seed services' own JavaScript clients (tests/compat/js) with node against a hub.

`npm ci` installs the pinned clients (package-lock.json) into tests/compat/js/node_modules the
first time. Without node the tests are skipped with the reason, unless HUB_REQUIRE_SYSTEM_TESTS=1.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent / "js"
REQUIRED = os.environ.get("HUB_REQUIRE_SYSTEM_TESTS") == "1"


def require_node() -> None:
    """Skip (or fail, when system tests are required) without node and npm; install the clients once."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        reason = f"{' and '.join(missing)} not installed (apt-get install -y nodejs npm)"
        if REQUIRED:
            pytest.fail(f"HUB_REQUIRE_SYSTEM_TESTS=1 but {reason}")
        pytest.skip(reason)
    with open(JS / "package-lock.json") as lock:  # one installer at a time (parallel test runs)
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (JS / "node_modules" / ".package-lock.json").exists():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS, check=True, capture_output=True,
                           timeout=300)


def run_client(script: str, hub_url: str, timeout: float = 60, **env) -> dict:
    """Run tests/compat/js/<script> against the hub; its JSON report (fails with its stderr)."""
    environment = {**os.environ, "HUB_URL": hub_url, **{key: str(value) for key, value in env.items()}}
    done = subprocess.run(["node", str(JS / script)], cwd=JS, env=environment, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{script} failed:\n{done.stderr[-4000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])

"""Run inside a loopback-only network namespace: start a real hub, run schemathesis against it.

`python -m tests.contract.fuzz [st run options...]`; the exit status is schemathesis'. Started by
test_contract.py through `unshare --net`, never on the host's network: see that test's docstring.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from tests.integration.hubproc import API_KEY, HubProcess

HERE = Path(__file__).resolve().parent


def loopback_only() -> None:
    """Bring up `lo` (down in a new namespace) and refuse to run with any other interface present."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    interfaces = [line.split(":")[1].strip() for line in
                  subprocess.run(["ip", "-o", "link"], check=True, capture_output=True, text=True).stdout.splitlines()]
    if interfaces != ["lo"]:
        sys.exit(f"refusing to fuzz: network interfaces besides loopback are present: {interfaces}")


def seed_sessions(hub: HubProcess) -> None:
    """`shop`: a connected sandbox session; `desk`: a stopped one (the fuzzer's usual session ids)."""
    assert hub.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox", "start": True}).ok
    assert hub.post("/api/sandbox/shop/scan", json={}).ok
    assert hub.post("/api/sessions", json={"sessionId": "desk", "engine": "sandbox"}).ok


def main(options: list[str]) -> int:
    loopback_only()
    with tempfile.TemporaryDirectory(prefix="contract-") as directory, \
            HubProcess(Path(directory), HUB_SANDBOX="true", HUB_SANDBOX_QR_SECONDS="5") as hub:
        seed_sessions(hub)
        st = str(Path(sys.executable).with_name("st"))
        command = [st, "--config-file", str(HERE / "schemathesis.toml"), "run", f"{hub.url}/openapi.json",
                   "-H", f"X-API-Key: {API_KEY}", "--no-color", *options]
        code = subprocess.run(command, cwd=directory).returncode
        if code != 0:
            print("---- hub log (last 4000 characters) ----\n" + hub.logs()[-4000:])
        return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

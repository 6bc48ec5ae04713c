"""The API contract under fuzzing: schemathesis against a real gunicorn hub (sandbox engine).

Fails on any 5xx, any status the OpenAPI document does not list for the route, any body or
Content-Type that does not match the documented one, any schema-valid request refused (where the
document states every rule; tests/contract/schemathesis.toml names the few routes where it cannot)
and any schema-invalid request accepted. Bounded: a fixed number of cases per operation
(`CONTRACT_EXAMPLES`, default 6) and a fixed seed (`CONTRACT_SEED`), well under 3 minutes.

Network safety: the fuzzer generates URLs (webhooks, listeners, media the hub downloads) and
sessions on the `neonize` engine (which dial WhatsApp). The hub and the fuzzer therefore run in a
network namespace of their own (`unshare --net`) whose only interface is loopback, and
tests/contract/fuzz.py refuses to start if it sees any other: whatever the URL guard decides, any
request the hub makes can reach only 127.0.0.0/8 or ::1, every other address is unreachable and no
name resolves. No HUB_BLOCK_PRIVATE_URLS or allowlist is needed for that, so the hub runs with its
defaults (loopback webhooks allowed, as for local listeners).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.integration.hubproc import ROOT

REQUIRED = os.environ.get("HUB_REQUIRE_SYSTEM_TESTS") == "1"
# seconds: the whole run, hub start included. About 80 s on an idle 2-core machine, 4 min at a load of 11;
# the margin keeps a loaded machine from failing a run that finds nothing.
BUDGET = 420
EXAMPLES = os.environ.get("CONTRACT_EXAMPLES", "6")
SEED = os.environ.get("CONTRACT_SEED", "20261130")


def isolated() -> list[str] | None:
    """The `unshare` prefix that gives a loopback-only network namespace here (root, or user namespaces)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return None
    for prefix in (["unshare", "--net"], ["unshare", "--map-root-user", "--net"]):
        if subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix
    return None


@pytest.mark.timeout(BUDGET + 30)
def test_the_hub_keeps_its_openapi_contract_under_fuzzing():
    prefix = isolated()
    if prefix is None:
        message = "no network namespace for the fuzzer (needs unshare and ip, as root or with user namespaces)"
        pytest.fail(message) if REQUIRED else pytest.skip(message)
    command = [*prefix, sys.executable, "-m", "tests.contract.fuzz", "--max-examples", EXAMPLES, "--seed", SEED,
               "--workers", "1"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=BUDGET)
    report = run.stdout[-20000:] + run.stderr[-3000:]
    assert run.returncode == 0, f"schemathesis found contract violations (seed {SEED}):\n{report}"

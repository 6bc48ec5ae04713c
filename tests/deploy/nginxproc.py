"""Real nginx for tests: a self-signed certificate, a shipped config rendered with test ports and paths
(each replaced line must exist exactly once in it), and nginx run in the foreground until the test ends."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REQUIRED = os.environ.get("HUB_REQUIRE_SYSTEM_TESTS") == "1"
MISSING = [tool for tool in ("nginx", "openssl") if shutil.which(tool) is None]


def skip_without_nginx() -> None:
    """Skip the calling test module when nginx or openssl is missing (fail under HUB_REQUIRE_SYSTEM_TESTS=1)."""
    if MISSING and not REQUIRED:
        pytest.skip(f"{' and '.join(MISSING)} not installed (apt-get install -y nginx openssl)",
                    allow_module_level=True)
    if MISSING:
        pytest.fail(f"HUB_REQUIRE_SYSTEM_TESTS=1 but {' and '.join(MISSING)} is not installed")


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (also its own CA, so clients can verify it)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


def local_lines(directory: Path, user: str, log: str) -> dict[str, str]:
    """Replacements that make a shipped config run from `directory` as this user (pid, logs, temp files)."""
    temp_paths = "".join(f"    {kind}_temp_path {directory}/{kind};\n"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return {
        f"user {user};": "user root;" if os.geteuid() == 0 else "",
        "pid /run/nginx.pid;": f"pid {directory}/nginx.pid;",
        "error_log /var/log/nginx/error.log warn;": f"error_log {directory}/error.log warn;",
        f"access_log /var/log/nginx/{log} hub_paths;": f"access_log {directory}/access.log hub_paths;\n{temp_paths}",
    }


def tls_lines(directory: Path, http_port: int, https_port: int, cert: Path, key: Path) -> dict[str, str]:
    """Replacements for the two server blocks: loopback ports, the test certificate, the ACME webroot."""
    return {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "/etc/letsencrypt/live/hub.example.com/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/hub.example.com/privkey.pem": str(key),
        "root /var/www/certbot;": f"root {directory};",
    }


def render(source: Path, directory: Path, replacements: dict[str, str], count: dict[str, int] | None = None) -> Path:
    """`source` with each replacement made; a line the config no longer has (as often as expected) fails."""
    text = source.read_text()
    for old, new in replacements.items():
        expected = (count or {}).get(old, 1)
        assert text.count(old) == expected, f"{source.name} no longer has {old!r} {expected} time(s)"
        text = text.replace(old, new)
    path = directory / source.name
    path.write_text(text)
    return path


def check(config: Path) -> subprocess.CompletedProcess:
    """`nginx -t` on the rendered config (its output, whatever the result)."""
    return subprocess.run(["nginx", "-t", "-e", str(config.parent / "error.log"), "-c", str(config)],
                          capture_output=True, text=True)


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("nginx did not start listening")


@contextmanager
def running(config: Path, port: int) -> Iterator[subprocess.Popen]:
    """nginx on the rendered config (checked with -t first) until the block ends."""
    checked = check(config)
    assert checked.returncode == 0, checked.stderr
    nginx = subprocess.Popen(["nginx", "-e", str(config.parent / "error.log"), "-c", str(config), "-g", "daemon off;"],
                             start_new_session=True, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, nginx)
        yield nginx
    finally:
        nginx.send_signal(signal.SIGTERM)  # fast shutdown of master and workers
        try:
            nginx.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(nginx.pid, signal.SIGKILL)
            nginx.wait(5)

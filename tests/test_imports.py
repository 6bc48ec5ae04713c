"""Import boundaries: the lower layers load no HTTP framework."""
from __future__ import annotations

import subprocess
import sys

# Modules below the API: services, engines and guards raise HubErrors but must not need Flask.
NO_HTTP = ["hub.errors", "hub.context", "hub.sessions.engine", "hub.sessions.jids", "hub.urlguard",
           "hub.egress"]


def test_lower_layers_import_no_http_framework():
    probe = ("import sys\n" + "".join(f"import {name}\n" for name in NO_HTTP)
             + "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'werkzeug', 'flask_openapi3'}))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"

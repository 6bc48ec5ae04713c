"""gunicorn entry point: gevent monkey-patching first, then the app, then its background work."""
import gc
import os
import sys

from gevent import monkey

monkey.patch_all()
# Go calls back on native threads and waits for the hub (a message is acknowledged once stored):
# each hand-over waits for the GIL, which a busy hub thread yields only every switch interval.
sys.setswitchinterval(float(os.environ.get("HUB_GIL_SWITCH_SECONDS", "0.0005")))

# The hub is imported after patching, on purpose (pyproject.toml allows E402 here).
from hub import logs, runtime
from hub.app import create_app
from hub.config import Config

_config = Config.from_env().with_api_key_file()
# Logging is configured once, here: before neonize is imported (importing it calls logging.basicConfig),
# and with the API keys to redact.
logs.configure(_config.log_format, _config.log_level, secrets=_config.api_keys)
app = create_app(_config)
runtime.start(app)
# What was imported and built so far lives as long as the process: out of the collector's sight, a
# full collection under a flood stopped the one worker's loop for 3 ms instead of ~100 ms (README,
# "Order and fairness").
gc.freeze()

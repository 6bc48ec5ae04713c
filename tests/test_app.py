"""The app factory: building apps starts nothing (no thread, no greenlet); runtime.start does."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# Run as under gunicorn's gevent worker (monkey-patched first), in a fresh interpreter so nothing
# another test started is counted.
PROBE = textwrap.dedent("""
    from gevent import monkey
    monkey.patch_all()
    import gc, json, sys, threading
    import greenlet
    from hub.app import create_app
    from hub.config import Config
    import hub.runtime  # importing the background modules must start nothing either

    def running():
        greenlets = [g for g in gc.get_objects() if isinstance(g, greenlet.greenlet) and g and not g.dead]
        return sorted(t.name for t in threading.enumerate()), len(greenlets)

    before = running()
    apps = [create_app(Config.for_tests(sys.argv[1] + "/" + str(n))) for n in range(2)]
    after_factory = running()
    hub.runtime.start(apps[0])
    after_start = running()
    hub.runtime.stop(apps[0])
    print(json.dumps({"before": before, "after_factory": after_factory, "after_start": after_start}))
""")


def test_create_app_twice_starts_no_thread_and_no_greenlet(tmp_path):
    result = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path)], capture_output=True, text=True,
                            timeout=60, check=True)
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["after_factory"] == seen["before"]
    # The probe can see what it looks for: runtime.start does start the workers.
    assert len(seen["after_start"][0]) > len(seen["before"][0]) or seen["after_start"][1] > seen["before"][1]

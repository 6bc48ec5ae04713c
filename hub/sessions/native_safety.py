"""neonize's media helpers made safe on native threads (they run there inside the bridge's pools).

neonize runs ffmpeg/ffprobe through `subprocess.Popen` and takes python-magic's lock on the
calling thread; under `monkey.patch_all()` both are gevent objects that fail or deadlock on a
native thread. `install` routes those subprocesses to the gevent hub's thread and gives
python-magic real locks.
"""
from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from types import SimpleNamespace

import gevent.subprocess

from hub import native

SUBPROCESS_DEADLINE = 120.0


class HubSubprocess:
    """The `subprocess` neonize's ffmpeg helper sees: each process runs from the hub's thread.

    A `Popen` under gevent's patches needs the default loop's child watcher, which only the hub's
    thread has; from a native pool thread it raises TypeError. So the process is run by a greenlet
    (gevent.subprocess) while the calling native thread waits on a real lock.
    """

    PIPE = subprocess.PIPE
    DEVNULL = subprocess.DEVNULL
    STDOUT = subprocess.STDOUT

    def __init__(self, hub):
        self._hub = hub

    def Popen(self, command, stdout=None, stderr=None, stdin=None, **_ignored):  # noqa: N802 (subprocess's name)
        done = native.call_on_hub(self._hub, _run_process, list(command))
        return FinishedProcess(done.returncode, done.stdout or b"", done.stderr or b"")


@dataclass
class FinishedProcess:
    """What neonize's FFmpeg.call reads from a Popen: stdout, stderr, wait(), returncode."""

    returncode: int
    out: bytes
    err: bytes

    def __post_init__(self):
        self.stdout, self.stderr = io.BytesIO(self.out), io.BytesIO(self.err)

    def wait(self, timeout=None) -> int:
        return self.returncode


def run_on_hub(hub, command: list[str], data: bytes | None = None) -> subprocess.CompletedProcess:
    """Run a process to completion from any thread: a greenlet on `hub`'s thread runs it."""
    return native.call_on_hub(hub, _run_process, command, data)


def _run_process(command: list[str], data: bytes | None = None) -> subprocess.CompletedProcess:

    try:
        feed = {"input": data} if data is not None else {"stdin": subprocess.DEVNULL}
        return gevent.subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     timeout=SUBPROCESS_DEADLINE, **feed)
    except FileNotFoundError as exc:
        return subprocess.CompletedProcess(command, 127, b"", str(exc).encode())
    except gevent.subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(command, 124, b"", b"timed out")


def install(hub) -> None:
    """Make neonize's media helpers safe on native threads (`hub`: the gevent hub that runs their processes)."""
    import magic
    import neonize.utils.ffmpeg as neonize_ffmpeg

    from hub.sessions import converter

    converter.put_on_path()
    neonize_ffmpeg.subprocess = HubSubprocess(hub)
    magic.threading = SimpleNamespace(Lock=native.real_lock)  # Magic() instances made from now on
    for instance in list(magic._instances.values()):
        instance.lock = native.real_lock()

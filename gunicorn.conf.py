"""gunicorn settings: gevent workers, no preload (docs/architecture.md, "Process model").

One worker on SQLite; `HUB_WORKERS` workers on PostgreSQL, each a member of the cluster.
"""
import os

from hub.config import Config
from hub.logs import gunicorn_logconfig


def worker_count(config: Config) -> int:
    """HUB_WORKERS, refused above one on SQLite (one process must own the file and every session)."""
    if config.workers > 1 and config.database_url.startswith("sqlite"):
        raise SystemExit(f"HUB_WORKERS={config.workers} needs PostgreSQL (HUB_DATABASE_URL=postgresql+psycopg://...): "
                         "on SQLite exactly one worker owns the sessions.")
    return config.workers


bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '3000')}"
worker_class = "gevent"
workers = worker_count(Config.from_env())  # on SQLite: the worker owns every connection and the scheduler
worker_connections = 1000
preload_app = False  # neonize must be imported after the fork
timeout = 60
graceful_timeout = 20
accesslog = None
errorlog = "-"
loglevel = os.environ.get("HUB_LOG_LEVEL", "info").lower()
# gunicorn 27 opens a control socket in ~/.gunicorn shared by every instance; the hub needs none.
control_socket_disable = True
# gunicorn's own lines (and access lines, if enabled) in the hub's format, secrets redacted.
logconfig_dict = gunicorn_logconfig()


def post_worker_init(worker):
    """When the worker starts its graceful shutdown, end the Socket.IO connections at once.

    gunicorn waits (up to graceful_timeout) for every open request; a connected Socket.IO client is
    one that never ends by itself, so every restart would otherwise take the whole 20 s.
    """
    import gevent

    def watch():
        while worker.alive:
            gevent.sleep(0.25)
        from hub import socket_io
        from wsgi import app

        socket_io.disconnect_all(app)

    gevent.spawn(watch)


def worker_exit(server, worker):
    """Stop the live sessions cleanly when the worker exits."""
    try:
        from hub import runtime
        from wsgi import app

        runtime.stop(app)
    except Exception:  # the worker is going away either way
        pass

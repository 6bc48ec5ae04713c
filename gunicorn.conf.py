"""gunicorn settings: ONE gevent worker, no preload (see DESIGN.md §3 and notes/neonize-gevent.md)."""
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '3000')}"
worker_class = "gevent"
workers = 1  # the worker owns every WhatsApp connection and the one scheduler
worker_connections = 1000
preload_app = False  # neonize must be imported after the fork
timeout = 60
graceful_timeout = 20
accesslog = None
errorlog = "-"
loglevel = os.environ.get("HUB_LOG_LEVEL", "info").lower()


def worker_exit(server, worker):
    """Stop the live sessions cleanly when the worker exits."""
    try:
        from wsgi import app
        from hub import runtime

        runtime.stop(app)
    except Exception:  # the worker is going away either way
        pass

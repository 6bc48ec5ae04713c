"""The one APScheduler of the process: GeventScheduler under gunicorn's gevent worker."""
from __future__ import annotations


def make_scheduler():
    """GeventScheduler when gevent has patched the process, else a BackgroundScheduler (tests, scripts)."""
    try:
        from gevent import monkey

        patched = monkey.is_module_patched("threading")
    except ImportError:
        patched = False
    if patched:
        from apscheduler.schedulers.gevent import GeventScheduler

        return GeventScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    from apscheduler.schedulers.background import BackgroundScheduler

    return BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})

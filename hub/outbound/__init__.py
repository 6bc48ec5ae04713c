"""The durable send queue (service.py) and the worker that drains it (worker.py)."""

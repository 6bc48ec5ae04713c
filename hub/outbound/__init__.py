"""The durable send queue: accepting a send (service.py and its parts), draining queues (queue.py, worker.py)."""

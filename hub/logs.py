"""Logging: one JSON object per line (default) or human-readable text (HUB_LOG_FORMAT=text)."""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

# Record attributes that are copied into JSON lines when a call passes them in `extra`.
CONTEXT_FIELDS = ("sessionId", "eventId", "deliveryId", "endpointId", "outboundId")


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "message", sessionId?, eventId?, deliveryId?, ...}."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for name in CONTEXT_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(log_format: str = "json", level: str = "INFO") -> None:
    """Install one stderr handler on the root logger (replacing any earlier ones)."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("urllib3", "apscheduler", "neonize", "whatsmeow"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))

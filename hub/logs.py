"""Logging: one JSON object per line (default) or human-readable text (HUB_LOG_FORMAT=text).

Ids travel in `extra=`: `log.warning("...", extra={"sessionId": sid, "deliveryId": did})`;
both formats print them. Every line passes through `RedactingFilter` first, so an API key,
a `whsec_` signing secret or an `apiKey=` query value never reaches the log (gunicorn's own
and access-log lines included: see `gunicorn_logconfig`).
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

from hub.context import HubContext

# Record attributes that are copied into log lines when a call passes them in `extra`.
CONTEXT_FIELDS = ("sessionId", "eventId", "deliveryId", "endpointId", "outboundId")
REDACTED = "[REDACTED]"
_events_log = logging.getLogger("hub.events")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Secrets recognisable by their shape, whatever the configured keys are.
_SECRET_PATTERNS = (
    re.compile(r"(whsec_)[A-Za-z0-9+/=_-]+"),
    # apiKey=…, api_key=…, X-API-Key: …, "apiKey": "…"
    re.compile(r"(\b(?:x-)?api[-_]?key[\"']?\s*[:=]\s*[\"']?)[^\s\"',}&]+", re.IGNORECASE),
    re.compile(r"(\bBearer\s+)[^\s\"',]+", re.IGNORECASE),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every given secret and every secret-shaped value replaced by [REDACTED]."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """A handler filter that renders each record's message (and traceback) with secrets removed."""

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        # Longest first, so a key that contains another key is removed whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
            record.exc_info = None  # formatters use the redacted exc_text instead
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, str):
                setattr(record, name, redact(value, self.secrets))
        return True


def _context(record: logging.LogRecord) -> dict:
    return {name: getattr(record, name) for name in CONTEXT_FIELDS if getattr(record, name, None) is not None}


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "message", sessionId?, eventId?, deliveryId?, ..., exception?}."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                **_context(record)}
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message [sessionId=… deliveryId=…]`, for people reading a terminal."""

    def __init__(self):
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        context = " ".join(f"{name}={value}" for name, value in _context(record).items())
        text = super().formatMessage(record)
        return f"{text} [{context}]" if context else text


def make_handler(log_format: str = "json", secrets: Iterable[str] = ()) -> logging.Handler:
    """A stderr handler with the chosen format and the redacting filter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RedactingFilter(secrets))
    return handler


def configure(log_format: str = "json", level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Install one stderr handler on the root logger (replacing any earlier ones).

    `secrets` are the configured API keys: they are redacted wherever they would appear.
    """
    root = logging.getLogger()
    root.handlers[:] = [make_handler(log_format, secrets)]
    root.setLevel(level)
    # sqlalchemy too: at DEBUG it would print every statement with its parameters (message texts).
    for noisy in ("urllib3", "apscheduler", "neonize", "whatsmeow", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # gunicorn's loggers keep their own handlers unless they hand their records to the root one.
    for name in ("gunicorn.error", "gunicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def log_event(envelope: dict) -> None:
    """Bus callback: one line per recorded event; session status changes at INFO, the rest at DEBUG."""
    ids = {"eventId": envelope["id"], "sessionId": envelope["sessionId"]}
    if envelope["type"] == "session-status":
        data = envelope["data"]
        _events_log.info("session %s is %s (was %s)", envelope["sessionId"], data.get("status"),
                         data.get("previous"), extra=ids)
    else:
        _events_log.debug("event %s recorded", envelope["type"], extra=ids)


def start(context: HubContext, scheduler) -> None:
    """Background module: log the events the hub records."""
    context.bus.add_callback(log_event)


def gunicorn_logconfig(environ=os.environ) -> dict:
    """`logconfig_dict` for gunicorn.conf.py: the master's lines in the hub's format, redacted."""
    log_format = environ.get("HUB_LOG_FORMAT", "json")
    level = environ.get("HUB_LOG_LEVEL", "INFO").upper()
    secrets = [key.strip() for key in environ.get("HUB_API_KEY", "").split(",") if key.strip()]
    return {
        "version": 1, "disable_existing_loggers": False,
        "handlers": {"hub": {"()": make_handler, "log_format": log_format, "secrets": secrets}},
        "root": {"level": level, "handlers": ["hub"]},
        # Access lines only at DEBUG: behind nginx they would be logged twice.
        "loggers": {"gunicorn.error": {"level": level, "handlers": [], "propagate": True},
                    "gunicorn.access": {"level": "INFO" if level == "DEBUG" else "WARNING",
                                        "handlers": [], "propagate": True}},
    }

"""One Config, read from the environment (and `.env`). Every variable is listed in the README."""
from __future__ import annotations

import ipaddress
import os
import re
import secrets
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from hub.rates import RateLimit, parse_rate_setting
from hub.rules import ENGINE_NAMES

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
SESSION_STORES = ("files", "database")  # where whatsmeow keeps each session's device (hub.sessions.device_store)
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the variable."""


def parse_duration(text: str) -> float:
    """'5s', '5m', '2h', '1d', '250ms' or plain seconds -> seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {text!r} (use true or false)")


def _positive(cast):
    def parse(text: str):
        value = cast(text)
        if value <= 0:
            raise ValueError(f"must be positive, got {text!r}")
        return value
    return parse


def _non_negative(cast):
    def parse(text: str):
        value = cast(text)
        if value < 0:
            raise ValueError(f"must not be negative, got {text!r}")
        return value
    return parse


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _schedule(text: str) -> list[float]:
    delays = [parse_duration(part) for part in _csv(text)]
    if not delays:
        raise ValueError("needs at least one delay")
    return delays


DEFAULT_PROXY_ADDRESSES = "127.0.0.1/32,::1/128"  # nginx on the same host


def _networks(text: str) -> list:
    return [ipaddress.ip_network(part, strict=False) for part in _csv(text)]


def _engine(text: str) -> str:
    if text not in ENGINE_NAMES:
        raise ValueError(f"unknown engine {text!r} (use {' or '.join(ENGINE_NAMES)})")
    return text


def _session_store(text: str) -> str:
    if text not in SESSION_STORES:
        raise ValueError(f"unknown session store {text!r} (use {' or '.join(SESSION_STORES)})")
    return text


def _log_format(text: str) -> str:
    if text not in ("json", "text"):
        raise ValueError(f"unknown log format {text!r} (use json or text)")
    return text


# HUB_MEDIA_STORE=s3://bucket/prefix (hub.media.stores)
S3_URL = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>[A-Za-z0-9._/-]*))?$")


def parse_media_store(text: str) -> str:
    """HUB_MEDIA_STORE: empty, a directory path, or `s3://bucket[/prefix]` (a ValueError names what is wrong)."""
    text = text.strip()
    if text.startswith("s3://") and not S3_URL.match(text):
        raise ValueError("use s3://<bucket>[/<prefix>]: a bucket name of 3-63 lower-case letters, digits, '.' "
                         "or '-', and a prefix of letters, digits, '.', '_', '-' and '/'")
    if "://" in text and not text.startswith("s3://"):
        raise ValueError(f"unknown media store scheme {urlsplit(text).scheme!r} (use a directory or s3://)")
    return text


def _node_id(text: str) -> str:
    text = text.strip()
    if text and not re.fullmatch(r"[A-Za-z0-9_.:-]{1,100}", text):
        raise ValueError("use 1-100 characters from A-Z, a-z, 0-9, '_', '.', ':' and '-'")
    return text


def _lease_ttl(text: str) -> float:
    seconds = parse_duration(text)
    if seconds < 3:
        raise ValueError("a lease must last at least 3s (it is renewed every third of it)")
    return seconds


# The older services' names for their token (README.md, "Configuration"): accepted while HUB_API_KEY is unset.
LEGACY_KEY_VARIABLES = ("API_STATIC_TOKEN", "API_KEY")

# env name -> (attribute, parser, default text)
_VARIABLES: dict[str, tuple[str, object, str]] = {
    "HUB_API_KEY": ("api_keys", _csv, ""),
    "HUB_DATABASE_URL": ("database_url", str, "sqlite:///hub.db"),
    "HUB_SESSIONS_DIR": ("sessions_dir", str, "sessions"),
    "HUB_UPLOADS_DIR": ("uploads_dir", str, "uploads"),
    "HUB_MEDIA_STORE": ("media_store", parse_media_store, ""),
    "HUB_S3_ENDPOINT": ("s3_endpoint", str.strip, ""),
    "HUB_PUBLIC_URL": ("public_url", str, "http://localhost:3000"),
    "HUB_SESSIONS_CONFIG": ("sessions_config", str, "sessions.config.json"),
    "HUB_ENGINE": ("engine", _engine, "neonize"),
    "HUB_SANDBOX": ("sandbox", _bool, "true"),
    "HUB_SANDBOX_QR_SECONDS": ("sandbox_qr_seconds", _positive(float), "60"),
    "HUB_SANDBOX_HISTORY_CHATS": ("sandbox_history_chats", _positive(int), "5"),
    "HUB_SANDBOX_HISTORY_MESSAGES": ("sandbox_history_messages", _non_negative(int), "0"),
    "HUB_WEBHOOK_TIMEOUT": ("webhook_timeout", _positive(float), "10"),
    "HUB_RETRY_SCHEDULE": ("retry_schedule", _schedule, "5s,5m,30m,2h,5h,10h,14h,20h,24h"),
    "HUB_BLOCK_PRIVATE_URLS": ("block_private_urls", _bool, "false"),
    "HUB_TRUSTED_NETWORKS": ("trusted_networks", _networks, ""),
    "HUB_PROXIES": ("proxies", _non_negative(int), "0"),
    "HUB_PROXY_ADDRESSES": ("proxy_addresses", _networks, DEFAULT_PROXY_ADDRESSES),
    "HUB_EVENT_RETENTION_DAYS": ("event_retention_days", _positive(float), "30"),
    "HUB_MEDIA_RETENTION_DAYS": ("media_retention_days", _positive(float), "30"),
    "HUB_MAX_MEDIA_MB": ("max_media_mb", _positive(float), "64"),
    "HUB_MEDIA_TIMEOUT": ("media_timeout", _positive(float), "60"),
    "HUB_OUTBOUND_MAX_AGE": ("outbound_max_age", parse_duration, "24h"),
    "HUB_SEND_INTERVAL": ("send_interval", parse_duration, "0"),
    "HUB_LOG_FORMAT": ("log_format", _log_format, "json"),
    "HUB_LOG_LEVEL": ("log_level", str.upper, "INFO"),
    "HUB_DEFAULT_SESSION": ("default_session", str.strip, ""),
    "HUB_CONTACT_CACHE_TTL": ("contact_cache_ttl", parse_duration, "5m"),
    "HUB_RATE_LIMIT": ("rate_limit", parse_rate_setting, "50/s burst 100"),
    "HUB_NODE_ID": ("node_id", _node_id, ""),
    "HUB_LEASE_TTL": ("lease_ttl", _lease_ttl, "15s"),
    "HUB_SEND_WAIT": ("send_wait", parse_duration, "10s"),
    "HUB_WORKERS": ("workers", _positive(int), "1"),
    "HUB_SESSION_STORE": ("session_store", _session_store, "files"),
    "PORT": ("port", _positive(int), "3000"),
    "HOST": ("host", str, "127.0.0.1"),
}


@dataclass(frozen=True)
class Config:
    """Hub settings. Build with `Config.from_env()`; tests use `Config.for_tests(tmp_path, ...)`."""

    api_keys: list[str] = field(default_factory=list)
    database_url: str = "sqlite:///hub.db"
    sessions_dir: str = "sessions"
    uploads_dir: str = "uploads"
    media_store: str = ""  # empty: uploads_dir (hub.media.stores)
    s3_endpoint: str = ""
    public_url: str = "http://localhost:3000"
    sessions_config: str = "sessions.config.json"
    engine: str = "neonize"
    sandbox: bool = True
    sandbox_qr_seconds: float = 60.0
    sandbox_history_chats: int = 5
    sandbox_history_messages: int = 0
    webhook_timeout: float = 10.0
    retry_schedule: list[float] = field(
        default_factory=lambda: _schedule("5s,5m,30m,2h,5h,10h,14h,20h,24h"))
    block_private_urls: bool = False
    trusted_networks: list = field(default_factory=list)
    proxies: int = 0
    proxy_addresses: list = field(default_factory=lambda: _networks(DEFAULT_PROXY_ADDRESSES))
    event_retention_days: float = 30.0
    media_retention_days: float = 30.0
    max_media_mb: float = 64.0
    media_timeout: float = 60.0
    outbound_max_age: float = 86400.0
    send_interval: float = 0.0
    log_format: str = "json"
    log_level: str = "INFO"
    default_session: str = ""
    contact_cache_ttl: float = 300.0
    rate_limit: RateLimit | None = RateLimit(50, 1.0, 100)  # per key (and per trusted address); None: off
    node_id: str = ""  # empty: host name + pid (hub.cluster.node.default_node_id)
    lease_ttl: float = 15.0
    send_wait: float = 10.0  # how long a call waits for the process holding its session (cluster)
    workers: int = 1
    session_store: str = "files"  # files: HUB_SESSIONS_DIR/<id>/whatsapp.db; database: hub.sessions.device_store
    port: int = 3000
    host: str = "127.0.0.1"
    # Not a variable of its own: which variable the keys came from (a legacy name earns a warning).
    api_key_source: str = "HUB_API_KEY"

    @classmethod
    def from_env(cls, environ: dict | None = None, dotenv_path: str = ".env") -> Config:
        """Read every HUB_* variable (environment wins over `.env`); raise ConfigError on bad values."""
        source = {**dotenv_values(dotenv_path), **(os.environ if environ is None else environ)}
        values = {}
        for name, (attr, parse, default) in _VARIABLES.items():
            text = source.get(name)
            text = default if text is None else str(text)
            try:
                values[attr] = parse(text)
            except ValueError as exc:
                raise ConfigError(f"{name}={text!r} is invalid: {exc}") from None
        if not values["api_keys"]:
            values.update(_legacy_keys(source))
        _check_session_store(values)
        return cls(**values)

    def startup_warnings(self) -> list[str]:
        """Configuration the operator should hear about at start-up (never a secret's value)."""
        if self.api_key_source == "HUB_API_KEY":
            return []
        return [f"API keys taken from {self.api_key_source} (the older services' name); "
                f"set HUB_API_KEY instead: the legacy names are read only while HUB_API_KEY is unset."]

    @classmethod
    def for_tests(cls, directory: Path | str, **overrides) -> Config:
        """A config whose files all live under `directory` (one temp dir per test)."""
        directory = Path(directory)
        base = dict(api_keys=["test-key"], database_url=f"sqlite:///{directory / 'hub.db'}",
                    sessions_dir=str(directory / "sessions"), uploads_dir=str(directory / "uploads"),
                    sessions_config=str(directory / "sessions.config.json"), engine="sandbox",
                    log_format="text", rate_limit=None)
        return cls(**{**base, **overrides})

    def with_api_key_file(self) -> Config:
        """Fill `api_keys` from the key file beside the database, generating it on first start."""
        if self.api_keys:
            return self
        path = self.key_file
        if path.exists():
            keys = _csv(path.read_text())
            if keys:
                return replace(self, api_keys=keys)
        key = "hub_" + secrets.token_urlsafe(32)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
        # Printed once, on purpose: this is the only time the operator sees the generated key.
        print(f"Generated API key (saved in {path}): {key}", file=sys.stderr, flush=True)
        return replace(self, api_keys=[key])

    @property
    def key_file(self) -> Path:
        """`hub.key` beside the SQLite database file (or in the working directory)."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            return Path(self.database_url[len(prefix):]).resolve().parent / "hub.key"
        return Path("hub.key").resolve()

    @property
    def max_media_bytes(self) -> int:
        return int(self.max_media_mb * 1024 * 1024)


def _check_session_store(values: dict) -> None:
    """whatsmeow's PostgreSQL store only: its SQLite store cannot be shared (and lives in HUB_SESSIONS_DIR already)."""
    if values["session_store"] == "database" and not values["database_url"].startswith("postgresql"):
        raise ConfigError("HUB_SESSION_STORE=database needs PostgreSQL (HUB_DATABASE_URL=postgresql+psycopg://...): "
                          "whatsmeow keeps its stores in the hub's PostgreSQL database; on SQLite use "
                          "HUB_SESSION_STORE=files.")


def _legacy_keys(source) -> dict:
    """Keys from the older services' variables (API_STATIC_TOKEN, API_KEY), used when HUB_API_KEY is unset."""
    names = [name for name in LEGACY_KEY_VARIABLES if _csv(str(source.get(name) or ""))]
    if not names:
        return {}
    keys = [key for name in names for key in _csv(str(source[name]))]
    return {"api_keys": list(dict.fromkeys(keys)), "api_key_source": " and ".join(names)}


def documented_variables() -> list[str]:
    """The environment variable names (the README table documents each one)."""
    return list(_VARIABLES)


assert {attr for attr, _, _ in _VARIABLES.values()} == {f.name for f in fields(Config)} - {"api_key_source"}

"""Shared fixtures: a temp-dir config and app per test, an authenticated client, a connected sandbox session."""
from __future__ import annotations

from gevent import monkey

# The engine's callbacks reach the hub through the gevent loop, as in the worker: a test that waits
# with time.sleep must let that loop run (only time is patched; sockets and threads stay real).
monkey.patch_time()

import pytest  # noqa: E402

from hub.app import create_app
from hub.config import Config
from tests import postgres as pg

API_KEY = "test-key"
AUTH = {"X-API-Key": API_KEY}


@pytest.fixture
def config(tmp_path):
    return Config.for_tests(tmp_path)


@pytest.fixture
def app(config):
    app = create_app(config)
    yield app
    app.extensions["hub"].sessions.stop_all()
    app.extensions["hub"].store.dispose()


class ApiClient:
    """The Flask test client with the API key already set."""

    def __init__(self, client):
        self.raw = client

    def __getattr__(self, method):
        call = getattr(self.raw, method)

        def with_key(*args, **kwargs):
            kwargs.setdefault("headers", {}).update(AUTH)
            return call(*args, **kwargs)
        return with_key


@pytest.fixture
def client(app):
    return ApiClient(app.test_client())


@pytest.fixture
def hub(app):
    """The app's services (config, store, sessions, events, ...)."""
    return app.extensions["hub"]


@pytest.fixture
def sandbox_session(client):
    """A sandbox session named 'shop', scanned and connected."""
    created = client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox", "start": True})
    assert created.status_code == 201
    assert client.post("/api/sandbox/shop/scan", json={}).status_code == 200
    return "shop"


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL cluster for the whole test session (tests/postgres.py): its base URL."""
    with pg.cluster() as url:
        yield url


@pytest.fixture
def pg_url(postgres) -> str:
    """The URL of a fresh, empty PostgreSQL database."""
    return pg.create_database(postgres)


@pytest.fixture(scope="session")
def pg_template(postgres) -> str:
    """A database at the schema's head that each test's database copies (faster than migrating each time)."""
    return pg.migrated_template(postgres)

"""Delivery tests run with a short retry schedule and timeout, and a dispatcher they can start."""
from __future__ import annotations

from functools import partial

import pytest

from hub.config import Config
from hub.delivery import endpoints
from hub.delivery.dispatcher import Dispatcher
from hub.delivery.endpoints import EndpointSpec
from tests.integration.hubproc import HubProcess


@pytest.fixture
def config(tmp_path):
    return Config.for_tests(tmp_path, retry_schedule=[0.3, 0.3], webhook_timeout=1.0)


@pytest.fixture
def dispatcher(hub):
    """A running dispatcher (a thread here), stopped after the test."""
    running = Dispatcher(hub, poll=0.05)
    hub.dispatcher = running
    hub.bus.add_callback(running.wake)
    running.start()
    yield running
    running.stop()


def add_listener(hub, url, **options) -> dict:
    """Register a listener for every event type (unless `events` says otherwise); its Endpoint JSON."""
    options.setdefault("events", ["all"])
    listener, _ = endpoints.register(hub, EndpointSpec("listener", url, **options))
    return listener


# The polling loop of the live tests (HubProcess.wait_for does not use its instance).
wait_until = partial(HubProcess.wait_for, None)

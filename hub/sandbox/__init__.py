"""The simulated WhatsApp: goneonize's functions over a network kept in the hub's database.

See docs/architecture.md, "The engine boundary".

`library.Goneonize` stands in for neonize's Go library under a real `NewClient`; `network.Network`
is the servers; `phone.Phone` is the phone side the `/api/sandbox` routes drive. One simulator
per store, built on first use inside the worker (`simulator()`).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Simulator:
    network: object
    library: object
    phone: object


_simulators: dict[int, Simulator] = {}


def simulator(store, qr_seconds: float = 60.0, listener=None) -> Simulator:
    """The simulated WhatsApp over `store`'s database (one per store, built on first use).

    `listener` (hub/cluster/notify.py) brings what other hub processes queue for the devices online here.
    """
    import gevent

    from hub.sandbox.library import Goneonize
    from hub.sandbox.network import Network
    from hub.sandbox.phone import Phone

    found = _simulators.get(id(store))
    if found is None or found.network.store is not store:
        network = Network(store, listener)
        library = Goneonize(network, gevent.get_hub(), qr_seconds)
        found = _simulators[id(store)] = Simulator(network, library, Phone(library, network))
    return found


def install(sessions, listener) -> None:
    """Give the session manager the simulated WhatsApp (sessions never import the sandbox)."""
    sessions.simulator = lambda: simulator(sessions.store, sessions.config.sandbox_qr_seconds, listener)


def existing(store) -> Simulator | None:
    """The simulator of `store` if one was built (metrics never build one)."""
    found = _simulators.get(id(store))
    return found if found is not None and found.network.store is store else None

"""The lease plan (hub/cluster/policy.py): pure functions, simulated rounds of several processes."""
from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hub.cluster.policy import Lease, fair_share, plan

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TTL = timedelta(seconds=15)


def run_rounds(nodes: list[str], sessions: list[str], leases: dict[str, Lease], rounds: int = 5,
               now: datetime = NOW) -> dict[str, Lease]:
    """Every node plans and acts in turn, as the coordinators do (an acquire only succeeds on a free lease)."""
    for _ in range(rounds):
        for node in nodes:
            step = plan(node, sessions, leases, nodes, now)
            for sid in step.release:
                leases[sid] = Lease(sid, node, leases[sid].epoch, now)  # expired now
            for sid in step.acquire:
                current = leases.get(sid)
                if current is None or not current.live(now):
                    leases[sid] = Lease(sid, node, (current.epoch if current else 0) + 1, now + TTL)
    return leases


def holders(leases: dict[str, Lease], now: datetime = NOW) -> Counter:
    return Counter(lease.owner for lease in leases.values() if lease.live(now))


def test_sixty_sessions_spread_evenly_over_three_processes():
    sessions = [f"s{i}" for i in range(60)]
    leases = run_rounds(["a", "b", "c"], sessions, {})
    assert holders(leases) == {"a": 20, "b": 20, "c": 20}
    assert all(leases[sid].live(NOW) for sid in sessions)


def test_a_process_that_joins_gets_its_share_from_the_others():
    sessions = [f"s{i}" for i in range(60)]
    leases = run_rounds(["a", "b"], sessions, {})
    assert holders(leases) == {"a": 30, "b": 30}
    leases = run_rounds(["a", "b", "c"], sessions, leases, rounds=3)
    assert holders(leases) == {"a": 20, "b": 20, "c": 20}


def test_a_dead_process_sessions_wait_for_their_leases_to_expire_then_move():
    sessions = [f"s{i}" for i in range(30)]
    leases = run_rounds(["a", "b", "c"], sessions, {})
    dead = {sid for sid, lease in leases.items() if lease.owner == "c"}
    # c stopped heartbeating: its leases still bind until they expire — nobody may take them yet.
    soon = NOW + timedelta(seconds=5)
    assert not any(sid in plan("a", sessions, leases, ["a", "b"], soon).acquire for sid in dead)
    later = NOW + TTL + timedelta(seconds=1)
    renewed = {sid: Lease(sid, lease.owner, lease.epoch, later + TTL) if lease.owner != "c" else lease
               for sid, lease in leases.items()}
    leases = run_rounds(["a", "b"], sessions, renewed, now=later)
    assert holders(leases, later) == {"a": 15, "b": 15}
    assert all(leases[sid].epoch == 2 for sid in dead)  # taken over: the epoch fences c


def test_sessions_no_longer_wanted_are_released_and_nothing_is_taken_twice():
    leases = run_rounds(["a", "b"], ["x", "y", "z"], {})
    step = plan(leases["x"].owner, ["y", "z"], leases, ["a", "b"], NOW)
    assert "x" in step.release
    assert fair_share(0, 2) == 0 and fair_share(61, 3) == 21


def test_processes_starting_together_try_different_sessions_first():
    sessions = [f"s{i}" for i in range(40)]
    first_a = plan("a", sessions, {}, ["a", "b"], NOW).acquire
    first_b = plan("b", sessions, {}, ["a", "b"], NOW).acquire
    assert len(first_a) == len(first_b) == 20
    assert len(set(first_a) & set(first_b)) < 15  # rendezvous order: mostly disjoint, so few lost races

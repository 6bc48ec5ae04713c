"""Start-up schema cost: the Alembic upgrade (hub/store/migrate.py) against the create_all it replaced.

    .venv/bin/python bench/migrate.py [--rounds 30]

Prints, per SQLite database file, the milliseconds of
  1. a fresh database: the real upgrade (every revision) vs Base.metadata.create_all + indexes;
  2. a database already at head (every restart, every test's app): one SELECT vs create_all's checks;
and the ratio of each to its baseline, measured in the same run, alternating.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.store import Base, Store  # noqa: E402  (after the path insert)


def create_all(store: Store) -> None:
    """What start-up did before migrations (Store.create_schema at 073fa58)."""
    Base.metadata.create_all(store.engine)
    with store.engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            for index in table.indexes:
                index.create(connection, checkfirst=True)


def timed(directory: Path, name: str, schema) -> float:
    """Milliseconds to bring the database file `name` to the schema with `schema(store)`."""
    store = Store(f"sqlite:///{directory / name}")
    started = time.perf_counter()
    schema(store)
    elapsed = (time.perf_counter() - started) * 1000
    store.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds
    directory = Path(tempfile.mkdtemp(prefix="bench-migrate-"))
    timed(directory, "warm-up.db", Store.migrate)  # imports and reads the revisions once, as a process does
    cases = {"baseline fresh": [], "upgrade fresh": [], "baseline existing": [], "upgrade existing": []}
    for n in range(rounds):
        cases["baseline fresh"].append(timed(directory, f"old{n}.db", create_all))
        cases["upgrade fresh"].append(timed(directory, f"new{n}.db", Store.migrate))
        cases["baseline existing"].append(timed(directory, f"old{n}.db", create_all))
        cases["upgrade existing"].append(timed(directory, f"new{n}.db", Store.migrate))
    medians = {case: statistics.median(values) for case, values in cases.items()}
    for kind in ("fresh", "existing"):
        upgrade, baseline = medians[f"upgrade {kind}"], medians[f"baseline {kind}"]
        print(f"{kind:>8} database: upgrade {upgrade:6.2f} ms, create_all {baseline:6.2f} ms, "
              f"ratio {upgrade / baseline:.2f} (median of {rounds})")


if __name__ == "__main__":
    main()

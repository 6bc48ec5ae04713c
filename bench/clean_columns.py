"""What the NUL-stripping, length-cutting column types cost: INSERTs per second, plain vs clean.

Two tables with the same 8 string columns (the shape of a history row), one declared with plain
String/Text, one with CleanString/CleanText (hub/store/models.py); the same rows are inserted into
each in executemany batches of 100 on an in-memory SQLite database, alternating, several rounds.
Prints each side's median rows per CPU-second and the ratio clean/plain (1.0 = free).

    .venv/bin/python bench/clean_columns.py [--rows 20000] [--rounds 5]
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hub.store.models import CleanString, CleanText  # noqa: E402

COLUMNS = {"session_id": 64, "message_id": 128, "chat_id": 128, "sender": 128, "type": 16, "status": 16,
           "outbound_id": 40, "text": None}


def table(metadata: MetaData, name: str, short, long) -> Table:
    columns = [Column(key, short(size) if size else long()) for key, size in COLUMNS.items()]
    return Table(name, metadata, Column("id", Integer, primary_key=True), *columns)


def rate(engine, target: Table, rows: list[dict]) -> float:
    """Rows per second inserted into `target` (batches of 100, one transaction)."""
    started = time.process_time()  # CPU time of this process: the machine is shared
    with engine.begin() as connection:
        for start in range(0, len(rows), 100):
            connection.execute(insert(target), rows[start:start + 100])
    return len(rows) / (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    engine, metadata = create_engine("sqlite://"), MetaData()
    plain = table(metadata, "plain", String, Text)
    clean = table(metadata, "clean", CleanString, CleanText)
    metadata.create_all(engine)
    rows = [{"session_id": "shop", "message_id": f"3EB0{n:016X}", "chat_id": "51987654321@s.whatsapp.net",
             "sender": "51987654321@s.whatsapp.net", "type": "text", "status": "received", "outbound_id": None,
             "text": f"Hola, quisiera saber el estado de mi pedido {n}"} for n in range(args.rows)]
    plain_rates, clean_rates = [], []
    for _ in range(args.rounds):
        plain_rates.append(rate(engine, plain, rows))
        clean_rates.append(rate(engine, clean, rows))
    plain_rate, clean_rate = statistics.median(plain_rates), statistics.median(clean_rates)
    print(f"plain String/Text       {plain_rate:10,.0f} rows/s (median of {args.rounds})")
    print(f"CleanString/CleanText   {clean_rate:10,.0f} rows/s")
    print(f"ratio clean/plain       {clean_rate / plain_rate:10.2f}")


if __name__ == "__main__":
    main()

"""Does DynamoDB Local keep a write it acknowledged when it is killed? A probe of the emulator.

    .venv/bin/python -m devstack.dynamodb_local_durability [--kind transaction|put]
        [--cycles 12] [--writers 16] [--signal SIGKILL]

The soak (devstack/soak.py) kills DynamoDB Local under load and then checks that every
event the service acknowledged is stored. That check is only as good as the emulator's
durability, so this measures it without the service: `--writers` threads write unique
items to DynamoDB Local on disk (`put`: one PutItem; `transaction`: a
TransactWriteItems putting one item in each of two tables, as an idempotent ingest
does), the process is killed after about a second, restarted on the same data, and
every write it answered is read back (strongly consistent). Prints, per cycle, the
writes answered, those missing, and where each missing one was among the last
answers (1: the very last write answered before the kill). Exits 1 if any
acknowledged write is missing.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from devstack.localstack import (
    Service,
    dynamodb_local_jar,
    free_port,
    local_dynamodb,
    start_dynamodb_local,
)

TABLES = ("durability-a", "durability-b")


def _client(service: Service) -> Any:
    return local_dynamodb(
        service.url,
        retries={"max_attempts": 0},
        connect_timeout=1,
        read_timeout=2,
        max_pool_connections=64,
    )


def _write(client: Any, kind: str, key: str) -> None:
    if kind == "put":
        client.put_item(TableName=TABLES[0], Item={"k": {"S": key}, "v": {"S": "x" * 300}})
        return
    client.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": TABLES[0],
                    "Item": {"k": {"S": key}},
                    "ConditionExpression": "attribute_not_exists(k)",
                }
            },
            {"Put": {"TableName": TABLES[1], "Item": {"k": {"S": key}, "v": {"S": "x" * 300}}}},
        ]
    )


def _write_for(service: Service, kind: str, writers: int, seconds: float) -> dict[str, float]:
    """Write from `writers` threads for `seconds` (the kill comes meanwhile); the writes
    answered, and when each was answered."""
    answered: dict[str, float] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def writer() -> None:
        client = _client(service)
        while not stop.is_set():
            key = str(uuid.uuid4())
            try:
                _write(client, kind, key)
            except Exception:  # the kill: refused, reset or timed out
                time.sleep(0.01)
                continue
            with lock:
                answered[key] = time.monotonic()

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    with lock:
        return dict(answered)


def _missing(service: Service, kind: str, answered: dict[str, float]) -> list[str]:
    """The answered writes not found now (strongly consistent reads) in some table the
    write touched."""
    client = _client(service)
    tables = TABLES[:1] if kind == "put" else TABLES

    def stored(key: str, table: str) -> bool:
        item = client.get_item(TableName=table, Key={"k": {"S": key}}, ConsistentRead=True)
        return "Item" in item

    return [key for key in answered if not all(stored(key, table) for table in tables)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--kind", choices=["transaction", "put"], default="transaction")
    parser.add_argument("--cycles", type=int, default=12)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--signal", default="SIGKILL", choices=["SIGKILL", "SIGTERM"])
    options = parser.parse_args(argv)
    jar = dynamodb_local_jar()
    if jar is None:
        raise SystemExit("DynamoDB Local is needed (Java + `make install`).")
    total_answered = total_missing = 0
    with tempfile.TemporaryDirectory(prefix="triggers-durability-") as tmp:
        data, port = Path(tmp), free_port()
        with (data / "dynamodb.log").open("ab") as log:
            service = start_dynamodb_local(jar, port=port, db_path=data, log=log)
            for table in TABLES:
                _client(service).create_table(
                    TableName=table,
                    KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                    BillingMode="PAY_PER_REQUEST",
                )
            try:
                for cycle in range(options.cycles):
                    killer = threading.Timer(
                        1.0 + (cycle % 5) * 0.13,
                        os.kill,
                        (service.process.pid, getattr(signal, options.signal)),
                    )
                    killer.start()
                    answered = _write_for(service, options.kind, options.writers, 2.5)
                    killer.join()
                    service.process.wait()
                    service = start_dynamodb_local(jar, port=port, db_path=data, log=log)
                    missing = _missing(service, options.kind, answered)
                    total_answered += len(answered)
                    total_missing += len(missing)
                    latest_first = sorted(answered, key=answered.__getitem__, reverse=True)
                    ranks = sorted(latest_first.index(key) + 1 for key in missing)
                    when = f" (n-th last answered: {ranks})"
                    print(
                        f"cycle {cycle + 1}: {len(answered)} answered, {len(missing)} missing"
                        + (when if missing else ""),
                        flush=True,
                    )
            finally:
                service.stop()
    print(f"{options.kind}, {options.signal}: {total_answered} answered, {total_missing} missing")
    return 1 if total_missing else 0


if __name__ == "__main__":
    sys.exit(main())

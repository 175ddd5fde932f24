"""Lookup by id as the events table grows: event-id-index vs the Scan fallback.

    .venv/bin/python -m perf.lookup_scaling [--sizes 1000 10000 100000]

Loads an in-memory DynamoDB Local events table to each size in turn (events spread
over many tenants), and at each size times the service's own two lookup paths
(`events.selectors._lookup_by_index` and `_lookup_by_scan`, the Scan without the
service's item cap) on random existing ids, in this one process and run. Prints a
table and writes a report under perf/reports/.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import django

from perf.harness import machine, perf_stack, write_report

TENANTS = 500
LOADERS = 4


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def _load(count: int, start: int) -> list[tuple[str, str]]:
    """Write `count` events in batches from several threads; return (tenant, id) pairs."""
    from events.fields import EventDraft  # noqa: PLC0415
    from events.items import pending_event  # noqa: PLC0415
    from events.models import Event  # noqa: PLC0415 - after django.setup()

    now = datetime.now(UTC)

    def write(chunk: range) -> list[tuple[str, str]]:
        keys = []
        with Event.batch_write() as batch:
            for n in chunk:
                event = pending_event(
                    tenant_id=f"tenant-{n % TENANTS}",
                    draft=EventDraft(
                        source="perf",
                        event_type="loaded",
                        payload=f'{{"n":{n},"note":"a small, typical payload"}}',
                    ),
                    now=now + timedelta(microseconds=n),
                )
                batch.save(event)
                keys.append((event.tenant_id, event.event_id))
        return keys

    step = max(1, count // LOADERS)
    chunks = [range(i, min(i + step, start + count)) for i in range(start, start + count, step)]
    with ThreadPoolExecutor(max_workers=LOADERS) as pool:
        return [key for keys in pool.map(write, chunks) for key in keys]


def _time(lookup: Callable[[str, str], Any], keys: list[tuple[str, str]]) -> list[float]:
    timings = []
    for tenant_id, event_id in keys:
        started = time.perf_counter()
        found = lookup(tenant_id, event_id)
        timings.append((time.perf_counter() - started) * 1000)
        if found is None:
            raise SystemExit(f"lookup lost event {event_id}: the benchmark is invalid")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--gsi-lookups", type=int, default=300)
    parser.add_argument("--scan-lookups", type=int, default=12)
    options = parser.parse_args()

    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="triggers-perf-") as tmp,
        perf_stack(Path(tmp)) as stack,
    ):
        os.environ.update(stack.env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggers.settings")
        os.environ["LOG_LEVEL"] = "WARNING"
        # Measure what a whole-table Scan costs; the service caps it (EVENT_SCAN_BUDGET_ITEMS).
        os.environ["EVENT_SCAN_BUDGET_ITEMS"] = str(10**9)
        django.setup()
        from events import selectors  # noqa: PLC0415 - after django.setup()

        rng = random.Random(7)
        ids: list[tuple[str, str]] = []
        for size in sorted(options.sizes):
            started = time.monotonic()
            ids += _load(size - len(ids), start=len(ids))
            load_s = time.monotonic() - started

            def by_index(tenant_id: str, event_id: str) -> object:
                # what a lookup of an id that does not give its key does: the index, then the item
                created_key = selectors._key_by_index(tenant_id, event_id)
                return None if created_key is None else selectors._get(tenant_id, created_key)

            _time(by_index, rng.sample(ids, 20))  # warm-up: connections, caches
            gsi = _time(by_index, rng.sample(ids, options.gsi_lookups))
            scan = _time(selectors._lookup_by_scan, rng.sample(ids, options.scan_lookups))
            row = {
                "events": size,
                "load_seconds": round(load_s, 1),
                "gsi_p50_ms": round(statistics.median(gsi), 2),
                "gsi_p95_ms": round(_percentile(gsi, 95), 2),
                "scan_p50_ms": round(statistics.median(scan), 1),
                "scan_p95_ms": round(_percentile(scan, 95), 1),
                "gsi_lookups": len(gsi),
                "scan_lookups": len(scan),
            }
            print(row, flush=True)
            rows.append(row)

    ratio = rows[-1]["gsi_p95_ms"] / rows[0]["gsi_p95_ms"]
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "tenants": TENANTS,
        "rows": rows,
        "gsi_p95_ratio_largest_to_smallest": round(ratio, 2),
    }
    path = write_report("lookup-scaling", report)
    print("\n| events | GSI p50 ms | GSI p95 ms | Scan p50 ms | Scan p95 ms |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['events']:,} | {row['gsi_p50_ms']} | {row['gsi_p95_ms']} | "
            f"{row['scan_p50_ms']} | {row['scan_p95_ms']} |"
        )
    print(f"\nGSI p95 largest/smallest: {ratio:.2f}\nreport: {path}")


if __name__ == "__main__":
    main()

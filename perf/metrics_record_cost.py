"""CPU cost of recording one request's metrics on the request path, in-process.

    DJANGO_SECRET_KEY=x .venv/bin/python -m perf.metrics_record_cost

Complements perf/metrics_overhead.py, whose end-to-end difference is smaller
than the run-to-run spread of a 2-core box: this isolates what a request pays
(the flush happens on a background thread).
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

import django


def main(requests: int = 50_000) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggers.settings")
    django.setup()
    from observability.metrics import BufferedPublisher, RequestOutcome  # noqa: PLC0415

    batches: list[Any] = []
    publisher = BufferedPublisher(
        sink=batches.append, interval=3600, max_series=1000, max_pending=10
    )
    durations = [random.lognormvariate(3, 0.5) for _ in range(requests)]
    started = time.process_time()
    for duration in durations:
        publisher.record_request(RequestOutcome("/v1/events", "POST", 201, duration, None))
    per_request = (time.process_time() - started) / requests * 1e6
    started = time.process_time()
    publisher.flush()
    flush_ms = (time.process_time() - started) * 1000
    entries = sum(len(batch) for batch in batches)
    print(f"record_request: {per_request:.1f} µs CPU per request")
    print(f"flush of {requests} requests: {flush_ms:.1f} ms CPU, {entries} entries (no network)")


if __name__ == "__main__":
    main()

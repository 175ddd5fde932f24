"""The metrics publisher in-process: aggregation, percentiles, limits, outages."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from observability import constants as m
from observability.metrics import (
    MAX_ENTRIES_PER_CALL,
    MAX_VALUES_PER_ENTRY,
    BufferedPublisher,
    MetricsBuffer,
    NoopPublisher,
    RequestOutcome,
    batches,
    bucket_ms,
    get_publisher,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile of raw samples."""
    ordered = sorted(samples)
    rank = max(1, round(pct / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def weighted_percentile(values: list[float], counts: list[float], pct: float) -> float:
    """The same percentile computed from Values/Counts, as CloudWatch does from raw data."""
    total = sum(counts)
    rank = max(1, round(pct / 100 * total + 0.5 - 1e-9))
    seen = 0.0
    for value, count in sorted(zip(values, counts, strict=True)):
        seen += count
        if seen >= rank:
            return value
    return max(values)


def histogram(entries: list[dict[str, Any]], name: str) -> tuple[list[float], list[float]]:
    values: list[float] = []
    counts: list[float] = []
    for entry in entries:
        if entry["MetricName"] == name:
            assert "StatisticValues" not in entry
            values += entry["Values"]
            counts += entry["Counts"]
    return values, counts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_published_latencies_reproduce_percentiles_within_one_percent(seed: int) -> None:
    # GIVEN 20,000 known durations spread over four orders of magnitude
    rng = random.Random(seed)
    durations = [rng.lognormvariate(3.0, 1.0) for _ in range(20_000)] + [0.2, 4_000.0]
    buffer = MetricsBuffer(max_series=100)
    for duration in durations:
        buffer.add_sample(m.LATENCY, (("Endpoint", "/v1/events"),), duration, m.MILLISECONDS)

    # WHEN they are drained as PutMetricData entries
    entries = buffer.drain(timestamp=NOW)
    values, counts = histogram(entries, m.LATENCY)

    # THEN every entry respects CloudWatch's limits and nothing was lost
    assert all(len(e["Values"]) <= MAX_VALUES_PER_ENTRY for e in entries)
    assert sum(counts) == len(durations)
    # AND p50/p95/p99 computed from them are within 1 % of the exact ones
    for pct in (50, 95, 99):
        exact = percentile(durations, pct)
        published = weighted_percentile(values, counts, pct)
        assert abs(published - exact) / exact < 0.01, (pct, exact, published)


@pytest.mark.parametrize("value", [0.011, 0.5, 1, 7.3, 99.99, 100, 250, 12_345.6])
def test_bucket_representative_is_within_one_percent(value: float) -> None:
    assert abs(bucket_ms(value) - value) / value <= 0.01


def test_counters_are_summed_per_series() -> None:
    buffer = MetricsBuffer(max_series=100)
    a, b = (("Endpoint", "/a"),), (("Endpoint", "/b"),)
    for _ in range(3):
        buffer.add_count(m.REQUESTS, a)
    buffer.add_count(m.REQUESTS, b, 5)

    entries = buffer.drain(timestamp=NOW)

    assert sorted((e["Dimensions"][0]["Value"], e["Value"]) for e in entries) == [
        ("/a", 3),
        ("/b", 5),
    ]
    assert buffer.drain(timestamp=NOW) == []


def test_series_limit_drops_new_series_and_counts_them() -> None:
    buffer = MetricsBuffer(max_series=2)
    for endpoint in ("/a", "/b", "/c", "/d"):
        buffer.add_count(m.REQUESTS, (("Endpoint", endpoint),))
    buffer.add_count(m.REQUESTS, (("Endpoint", "/a"),))  # known series still counted

    entries = {(e["MetricName"], tuple(d["Value"] for d in e["Dimensions"])): e for e in
               buffer.drain(timestamp=NOW)}  # fmt: skip

    assert entries[(m.REQUESTS, ("/a",))]["Value"] == 2
    assert (m.REQUESTS, ("/c",)) not in entries
    assert entries[(m.METRICS_DROPPED, ())]["Value"] == 2


def test_batches_respect_entry_count_and_size_limits() -> None:
    small = [{"MetricName": "x", "Value": 1}] * 2500
    assert [len(b) for b in batches(small)] == [MAX_ENTRIES_PER_CALL, MAX_ENTRIES_PER_CALL, 500]
    big = [{"MetricName": "x", "Values": [1.0] * 150, "Counts": [1.0] * 150}] * 200
    sizes = [len(b) for b in batches(big)]
    assert sum(sizes) == 200
    assert all(300 + 80 * 150 * size <= 1_000_000 for size in sizes)


def make_publisher(sink: Any, *, max_pending: int = 3) -> BufferedPublisher:
    return BufferedPublisher(sink=sink, interval=3600, max_series=100, max_pending=max_pending)


def test_request_outcomes_become_requests_success_and_errors() -> None:
    sent: list[list[dict[str, Any]]] = []
    publisher = make_publisher(sent.append)
    for status, duration, error in [
        (201, 12.0, None),
        (400, 3.0, "VALIDATION_ERROR"),
        (500, 9.0, "INTERNAL_ERROR"),
        (404, 1.0, None),
    ]:
        publisher.record_request(RequestOutcome("/v1/events", "post", status, duration, error))

    publisher.flush()

    (batch,) = sent
    totals: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for entry in batch:
        dims = tuple((d["Name"], d["Value"]) for d in entry["Dimensions"])
        totals[(entry["MetricName"], dims)] = entry.get("Value", sum(entry.get("Counts", [])))
    endpoint = (("Endpoint", "/v1/events"), ("Method", "POST"))
    assert totals[(m.REQUESTS, endpoint)] == 4
    assert totals[(m.LATENCY, endpoint)] == 4
    assert totals[(m.SUCCESS, endpoint)] == 3  # everything but the 500
    errors = {dims[1][1]: n for (name, dims), n in totals.items() if name == m.ERRORS}
    assert errors == {"VALIDATION_ERROR": 1, "INTERNAL_ERROR": 1, "HTTP_404": 1}


def test_unknown_methods_share_one_bucket() -> None:
    sent: list[list[dict[str, Any]]] = []
    publisher = make_publisher(sent.append)
    for method in ("BREW", "PROPFIND", "get"):
        publisher.record_request(RequestOutcome("unmatched", method, 200, 1, None))
    publisher.flush()
    methods = {d["Value"] for e in sent[0] for d in e["Dimensions"] if d["Name"] == "Method"}
    assert methods == {"GET", "OTHER"}


def test_an_outage_keeps_memory_bounded_and_counts_what_it_drops() -> None:
    # GIVEN a CloudWatch that fails every call
    calls: list[int] = []

    def failing(batch: list[dict[str, Any]]) -> None:
        calls.append(len(batch))
        raise ConnectionError("CloudWatch is down")

    publisher = make_publisher(failing, max_pending=3)

    # WHEN many flush intervals pass with traffic in each
    for interval in range(50):
        for n in range(20):
            publisher.record_request(RequestOutcome(f"/e{n}", "GET", 200, n + interval, None))
        publisher.flush()
        # THEN the unsent batches never exceed the bound
        assert len(publisher.pending) <= 3

    # AND the drops and failures are counted for when CloudWatch is back
    recovered: list[list[dict[str, Any]]] = []
    publisher._sink = recovered.append
    publisher.flush()
    names = {e["MetricName"]: e for batch in recovered for e in batch}
    assert names[m.METRICS_DROPPED]["Value"] > 0
    assert names[m.METRICS_PUBLISH_FAILURES]["Value"] >= 1
    assert not publisher.pending


def test_a_rejected_batch_is_dropped_not_retried_forever() -> None:
    error = ClientError(
        {"Error": {"Code": "InvalidParameterValue"}, "ResponseMetadata": {"HTTPStatusCode": 400}},
        "PutMetricData",
    )
    attempts: list[int] = []

    def rejecting(batch: list[dict[str, Any]]) -> None:
        attempts.append(1)
        raise error

    publisher = make_publisher(rejecting)
    publisher.count(m.EVENTS_INGESTED)
    publisher.flush()
    publisher.flush()
    assert len(attempts) == 2  # the second flush sends only the new failure counter
    assert len(publisher.pending) == 0


def _server_error() -> ClientError:
    return ClientError(
        {"Error": {"Code": "InternalFailure"}, "ResponseMetadata": {"HTTPStatusCode": 500}},
        "PutMetricData",
    )


def _filled(publisher: BufferedPublisher, batches_wanted: int) -> None:
    """Queue `batches_wanted` full PutMetricData batches in the publisher."""
    for n in range(MAX_ENTRIES_PER_CALL * batches_wanted):
        publisher.count(f"Metric{n}")


def test_one_failed_batch_does_not_hold_back_the_others() -> None:
    # GIVEN a CloudWatch that answers 500 to the first batch only
    sent: list[int] = []
    calls = 0

    def first_fails(batch: list[dict[str, Any]]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise _server_error()
        sent.append(len(batch))

    publisher = BufferedPublisher(
        sink=first_fails, interval=3600, max_series=10_000, max_pending=10
    )
    _filled(publisher, 3)

    # WHEN it flushes, THEN the other batches go out and the failed one waits for the next flush
    publisher.flush()
    assert len(sent) == 2
    assert len(publisher.pending) == 1
    publisher.flush()
    assert len(sent) == 4  # the retried batch, and the failure counter's own batch
    assert not publisher.pending


def test_an_unreachable_cloudwatch_is_not_asked_once_per_batch() -> None:
    calls: list[int] = []

    def unreachable(batch: list[dict[str, Any]]) -> None:
        calls.append(len(batch))
        raise ConnectionRefusedError("CloudWatch is unreachable")

    publisher = BufferedPublisher(
        sink=unreachable, interval=3600, max_series=10_000, max_pending=10
    )
    _filled(publisher, 3)
    publisher.flush()
    assert len(calls) == 1  # the rest would fail the same way
    assert len(publisher.pending) == 3  # all kept for the next flush


def test_only_retryable_errors_are_retried() -> None:
    # GIVEN a batch that fails with an error that would fail again (a bug, a bad parameter)
    attempts: list[int] = []

    def broken(batch: list[dict[str, Any]]) -> None:
        attempts.append(len(batch))
        raise TypeError("unexpected keyword argument")

    publisher = make_publisher(broken)
    publisher.count(m.EVENTS_INGESTED)

    # WHEN it is flushed, THEN it is tried once and dropped, not kept for every next flush
    publisher.flush()
    assert attempts == [1]
    assert publisher.pending == deque()

    # AND the next flush reports the drop and the failure, without the dropped batch
    sent: list[list[dict[str, Any]]] = []
    publisher._sink = sent.append
    publisher.flush()
    values = {entry["MetricName"]: entry["Value"] for entry in sent[0]}
    assert values == {m.METRICS_DROPPED: 1, m.METRICS_PUBLISH_FAILURES: 1}


def test_a_fork_while_a_flush_holds_its_lock_cannot_deadlock_the_child() -> None:
    # GIVEN a publisher whose flush is in progress (its lock held) in another thread
    sending, release = threading.Event(), threading.Event()

    def slow_sink(batch: list[dict[str, Any]]) -> None:
        sending.set()
        release.wait(30)

    publisher = make_publisher(slow_sink)
    publisher.count(m.EVENTS_INGESTED)
    flushing = threading.Thread(target=publisher.flush, daemon=True)
    flushing.start()
    assert sending.wait(10)

    # WHEN the process forks (as gunicorn does, e.g. with preload_app)
    child = os.fork()
    if child == 0:  # the child: record and flush, as a worker would
        delivered: list[int] = []
        publisher._sink = lambda batch: delivered.append(len(batch))
        publisher.count(m.EVENTS_INGESTED)
        publisher.flush()
        os._exit(0 if delivered == [1] else 1)

    # THEN the child is not stuck on the lock it inherited
    deadline = time.monotonic() + 30  # a hang detector, not a measurement
    while (waited := os.waitpid(child, os.WNOHANG)) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(child, signal.SIGKILL)
            pytest.fail("the forked child deadlocked on the publisher's lock")
        time.sleep(0.05)
    release.set()
    assert os.waitstatus_to_exitcode(waited[1]) == 0


def test_shutdown_is_bounded_even_if_cloudwatch_hangs() -> None:
    # GIVEN a CloudWatch that never answers
    release = threading.Event()
    publisher = make_publisher(lambda batch: release.wait())
    publisher.count(m.EVENTS_INGESTED)

    # WHEN the worker shuts down, THEN shutting down ends while CloudWatch still hangs
    # (a shutdown that waited for it would never end)
    done = threading.Event()
    threading.Thread(
        target=lambda: (publisher.shutdown(timeout=0.5), done.set()), daemon=True
    ).start()
    assert done.wait(60), "shutdown waited on a hung CloudWatch"
    assert not release.is_set()
    release.set()


def test_metrics_off_is_a_noop_publisher_that_starts_no_thread() -> None:
    # GIVEN METRICS_BACKEND=none (as in the tests)
    threads_before = set(threading.enumerate())
    publisher = get_publisher()
    assert isinstance(publisher, NoopPublisher)

    # WHEN everything is recorded, flushed and shut down
    publisher.record_request(RequestOutcome("/x", "GET", 200, 1, None))
    publisher.count(m.EVENTS_INGESTED, value=3)
    publisher.flush()
    publisher.shutdown()

    # THEN it started no thread
    assert set(threading.enumerate()) - threads_before == set()

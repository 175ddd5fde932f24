"""CloudWatch metrics, aggregated in memory and published off the request path.

Each worker process aggregates what it records in a `MetricsBuffer` (counters are
summed; latencies are counted per ~1 %-wide bucket) and a background thread
flushes it every METRICS_FLUSH_INTERVAL_SECONDS (and on worker exit). Latency goes
to CloudWatch as `Values`/`Counts` arrays — raw samples, never statistic sets —
so CloudWatch's p50/p95/p99 are exact up to the bucket width.

A request never waits on CloudWatch and never fails because of it: publishing
happens on the flusher thread, failures are logged and counted, unsent batches
are retried at the next flush up to a fixed number (older ones are dropped and
counted), so an outage cannot grow memory without limit.

`METRICS_BACKEND`: `cloudwatch` (PutMetricData), `log` (one `metrics_flushed`
log line per flush, for local work), `none` (a no-op publisher).
"""

from __future__ import annotations

import functools
import math
import os
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from django.conf import settings

from observability import constants as m
from observability.logging import get_logger
from triggers.core.aws import aws_client
from triggers.core.chunks import chunks

__all__ = [
    "BufferedPublisher",
    "MetricsBuffer",
    "MetricsPublisher",
    "NoopPublisher",
    "RequestOutcome",
    "bucket_ms",
    "get_publisher",
    "record_budget_exhausted",
    "record_dead_letters",
    "record_event_ingestion",
    "record_index_fallback",
    "record_lease_releases",
    "record_leases_granted",
    "record_lookup",
    "record_oldest_pending_age",
    "record_rate_limited",
    "record_redrives",
    "record_request",
    "record_unavailable",
    "shutdown_publisher",
]

logger = get_logger(__name__)

Dimensions = tuple[tuple[str, str], ...]
SeriesKey = tuple[str, Dimensions, str]  # metric name, dimensions, unit
Datum = dict[str, Any]

# CloudWatch PutMetricData limits (per call and per entry).
MAX_ENTRIES_PER_CALL = 1000
MAX_VALUES_PER_ENTRY = 150
_BYTES_BUDGET = 900_000  # headroom under PutMetricData's 1 MB request limit
_ENTRY_BYTES = 300  # name, dimensions, unit, timestamp once encoded
_VALUE_BYTES = 80  # one Values.member.N + Counts.member.N pair once encoded

# Latency buckets grow by 2 %: a sample is reported as its bucket's geometric
# middle, at most ~1 % away from the true value, so percentiles are within ~1 %.
_BUCKET_GROWTH = 1.02
_BUCKET_FLOOR_MS = 0.01


def bucket_ms(value: float) -> float:
    """The representative of the ~1 %-wide latency bucket `value` falls in."""
    if value <= _BUCKET_FLOOR_MS:
        return _BUCKET_FLOOR_MS
    index = math.floor(math.log(value / _BUCKET_FLOOR_MS, _BUCKET_GROWTH))
    return float(round(_BUCKET_FLOOR_MS * _BUCKET_GROWTH ** (index + 0.5), 4))


def _dimensions(**dims: str) -> Dimensions:
    return tuple(sorted(dims.items()))


def _method(method: str) -> str:
    upper = method.upper()
    return upper if upper in m.KNOWN_METHODS else m.OTHER_METHOD


class MetricsBuffer:
    """Thread-safe in-memory aggregation, bounded by the number of distinct series."""

    def __init__(self, *, max_series: int):
        self._lock = threading.Lock()
        self._max_series = max_series
        self._counts: dict[SeriesKey, float] = {}
        self._histograms: dict[SeriesKey, dict[float, int]] = {}
        self.dropped = 0

    def count_dropped(self, entries: int) -> None:
        with self._lock:
            self.dropped += entries

    def _admit(self, key: SeriesKey) -> bool:
        known = key in self._counts or key in self._histograms
        if known or len(self._counts) + len(self._histograms) < self._max_series:
            return True
        self.dropped += 1
        return False

    def add_count(self, name: str, dims: Dimensions, value: float = 1) -> None:
        key = (name, dims, m.COUNT)
        with self._lock:
            if self._admit(key):
                self._counts[key] = self._counts.get(key, 0) + value

    def add_sample(self, name: str, dims: Dimensions, value: float, unit: str) -> None:
        key = (name, dims, unit)
        representative = bucket_ms(value)
        with self._lock:
            if self._admit(key):
                histogram = self._histograms.setdefault(key, {})
                histogram[representative] = histogram.get(representative, 0) + 1

    def drain(self, *, timestamp: datetime) -> list[Datum]:
        """Everything recorded so far as PutMetricData entries; the buffer starts empty."""
        with self._lock:
            counts, self._counts = self._counts, {}
            histograms, self._histograms = self._histograms, {}
            dropped, self.dropped = self.dropped, 0
        if dropped:
            counts[(m.METRICS_DROPPED, (), m.COUNT)] = dropped
        entries: list[Datum] = []
        for (name, dims, unit), total in counts.items():
            entries.append(_datum(name, dims, unit, timestamp, Value=total))
        for (name, dims, unit), histogram in histograms.items():
            items = sorted(histogram.items())
            for start in range(0, len(items), MAX_VALUES_PER_ENTRY):
                chunk = items[start : start + MAX_VALUES_PER_ENTRY]
                entries.append(
                    _datum(
                        name,
                        dims,
                        unit,
                        timestamp,
                        Values=[value for value, _ in chunk],
                        Counts=[float(count) for _, count in chunk],
                    )
                )
        return entries


def _datum(name: str, dims: Dimensions, unit: str, timestamp: datetime, **data: Any) -> Datum:
    return {
        "MetricName": name,
        "Dimensions": [{"Name": key, "Value": value} for key, value in dims],
        "Unit": unit,
        "Timestamp": timestamp,
        "StorageResolution": 60,
        **data,
    }


def _entry_size(entry: Datum) -> int:
    return _ENTRY_BYTES + _VALUE_BYTES * len(entry.get("Values", ()))


def batches(entries: list[Datum]) -> Iterable[list[Datum]]:
    """Split entries into PutMetricData calls within the entry-count and size limits."""
    return chunks(
        entries, size_of=_entry_size, max_size=_BYTES_BUDGET, max_count=MAX_ENTRIES_PER_CALL
    )


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    """One answered request, as the metrics see it."""

    endpoint: str  # the route template, or UNMATCHED_ENDPOINT
    method: str
    status_code: int
    duration_ms: float
    error_type: str | None  # the error envelope's code; None for a success


class MetricsPublisher(Protocol):
    def record_request(self, outcome: RequestOutcome) -> None: ...

    def count(
        self, name: str, dimensions: Mapping[str, str] | None = None, *, value: float = 1
    ) -> None: ...
    def sample(self, name: str, value: float, unit: str) -> None: ...
    def flush(self) -> None: ...
    def shutdown(self, timeout: float = ...) -> None: ...


class NoopPublisher:
    """METRICS_BACKEND=none: every call does nothing."""

    def record_request(self, outcome: RequestOutcome) -> None:
        pass

    def count(
        self, name: str, dimensions: Mapping[str, str] | None = None, *, value: float = 1
    ) -> None:
        pass

    def sample(self, name: str, value: float, unit: str) -> None:
        pass

    def flush(self) -> None:
        pass

    def shutdown(self, timeout: float = 0) -> None:
        pass


Sink = Callable[[list[Datum]], None]


class BufferedPublisher:
    """Aggregates in memory; a daemon thread hands batches to `sink` every `interval` s."""

    def __init__(self, *, sink: Sink, interval: float, max_series: int, max_pending: int):
        self._sink = sink
        self._interval = interval
        self._max_series = max_series
        self.buffer = MetricsBuffer(max_series=max_series)
        self.pending: deque[list[Datum]] = deque()
        self._max_pending = max_pending
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None
        # A fork (gunicorn's workers, with or without preloading) copies this object with
        # whatever locks its threads held at that instant; the child starts afresh.
        after_fork = weakref.WeakMethod(self._start_afresh)
        os.register_at_fork(after_in_child=lambda: (method := after_fork()) and method())

    def _start_afresh(self) -> None:
        """In a forked child: the parent's locks, flusher thread and data are not ours."""
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self.buffer = MetricsBuffer(max_series=self._max_series)
        self.pending = deque()
        self._thread = None

    # --- recording (request path: a lock and a dict update, nothing else) --------------

    def record_request(self, outcome: RequestOutcome) -> None:
        dims = _dimensions(Endpoint=outcome.endpoint, Method=_method(outcome.method))
        self._count(m.REQUESTS, dims)
        self._sample(m.LATENCY, dims, outcome.duration_ms)
        if outcome.status_code < 500:
            self._count(m.SUCCESS, dims)
        if outcome.status_code >= 400:
            error_type = outcome.error_type or f"HTTP_{outcome.status_code}"
            error_dims = (*dims, (m.ERROR_TYPE, error_type))
            self._count(m.ERRORS, tuple(sorted(error_dims)))

    def count(
        self, name: str, dimensions: Mapping[str, str] | None = None, *, value: float = 1
    ) -> None:
        self._count(name, _dimensions(**(dimensions or {})), value)

    def sample(self, name: str, value: float, unit: str) -> None:
        """One observation of a distribution without dimensions (CloudWatch gets its
        values and counts, so any statistic of it: Maximum, p99...)."""
        self._ensure_thread()
        self.buffer.add_sample(name, (), value, unit)

    def _count(self, name: str, dims: Dimensions, value: float = 1) -> None:
        self._ensure_thread()
        self.buffer.add_count(name, dims, value)

    def _sample(self, name: str, dims: Dimensions, value_ms: float) -> None:
        self._ensure_thread()
        self.buffer.add_sample(name, dims, value_ms, m.MILLISECONDS)

    # --- flushing (background thread, worker exit) --------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        with self._flush_lock:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(
                    target=self._run, name="metrics-flusher", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self._interval)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        with self._flush_lock:
            entries = self.buffer.drain(timestamp=datetime.now(UTC))
            for batch in batches(entries):
                self._queue(batch)
            unsent: deque[list[Datum]] = deque()
            while self.pending:
                batch = self.pending.popleft()
                try:
                    self._sink(batch)
                except Exception as exc:  # never let CloudWatch into a request
                    retry = _retryable(exc)
                    logger.warning(
                        "metrics_publish_failed",
                        error=type(exc).__name__,
                        entries=len(batch),
                        will_retry=retry,
                    )
                    self.buffer.add_count(m.METRICS_PUBLISH_FAILURES, ())
                    if retry:
                        unsent.append(batch)
                    else:
                        self.buffer.count_dropped(len(batch))
                    if _unreachable(exc):  # the other batches would fail the same way
                        unsent.extend(self.pending)
                        self.pending.clear()
            self.pending = unsent

    def _queue(self, batch: list[Datum]) -> None:
        if len(self.pending) >= self._max_pending:
            oldest = self.pending.popleft()
            self.buffer.count_dropped(len(oldest))
            logger.warning("metrics_dropped", entries=len(oldest), reason="pending_full")
        self.pending.append(batch)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the flusher and publish what is left, waiting at most `timeout` seconds
        (a hanging CloudWatch must not hold a worker's exit hostage)."""
        self._stopped = True
        self._wake.set()
        final = threading.Thread(target=self.flush, name="metrics-final-flush", daemon=True)
        final.start()
        final.join(timeout=timeout)


def _unreachable(exc: Exception) -> bool:
    """CloudWatch could not be reached at all (not: it answered with an error)."""
    return isinstance(exc, BotoConnectionError | HTTPClientError | OSError)


def _retryable(exc: Exception) -> bool:
    """Throttling, server errors and network failures are retried. A rejected batch (a 4xx)
    is not, nor anything else that went wrong (a bug would fail again the same way)."""
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
        code = exc.response.get("Error", {}).get("Code", "")
        return status >= 500 or status == 429 or "Throttl" in code
    return _unreachable(exc)


def cloudwatch_sink(namespace: str) -> Sink:
    # Built on the first flush, on the flusher thread: creating a botocore client costs
    # tens of milliseconds of CPU, which no request should pay.
    @functools.cache
    def client() -> Any:
        # botocore's "standard" retry mode backs off exponentially with jitter on throttling.
        config = Config(
            retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5
        )
        return aws_client("cloudwatch", config=config)

    def put(batch: list[Datum]) -> None:
        client().put_metric_data(Namespace=namespace, MetricData=batch)

    return put


def log_sink(namespace: str) -> Sink:
    def write(batch: list[Datum]) -> None:
        logger.info("metrics_flushed", namespace=namespace, entries=batch)

    return write


@functools.cache
def get_publisher() -> MetricsPublisher:
    """The process's publisher, chosen by METRICS_BACKEND (created on first use)."""
    backend = settings.METRICS_BACKEND
    if backend == "none":
        return NoopPublisher()
    namespace = m.namespace(settings.STAGE)
    sink = cloudwatch_sink(namespace) if backend == "cloudwatch" else log_sink(namespace)
    return BufferedPublisher(
        sink=sink,
        interval=settings.METRICS_FLUSH_INTERVAL_SECONDS,
        max_series=settings.METRICS_MAX_SERIES,
        max_pending=settings.METRICS_MAX_PENDING_BATCHES,
    )


def shutdown_publisher() -> None:
    """Flush what is buffered; gunicorn's worker_exit hook calls this."""
    if get_publisher.cache_info().currsize:
        get_publisher().shutdown()


# Helpers for the call sites: one line each, whatever the backend.


def record_request(outcome: RequestOutcome) -> None:
    get_publisher().record_request(outcome)


def record_event_ingestion(count: int) -> None:
    get_publisher().count(m.EVENTS_INGESTED, value=count)


def record_lookup(method: str) -> None:
    get_publisher().count(m.EVENT_LOOKUPS, {m.LOOKUP_METHOD: method})


def record_unavailable(cause: str) -> None:
    """A request answered 503, and why (triggers.core.errors.UnavailableCause)."""
    get_publisher().count(m.SERVICE_UNAVAILABLE, {m.CAUSE: cause})


def record_budget_exhausted(operation: str) -> None:
    """A read stopped at its DynamoDB read budget and returned what it had."""
    get_publisher().count(m.READ_BUDGET_EXHAUSTED, {m.OPERATION: operation})


def record_index_fallback(index: str) -> None:
    """A read could not use `index` on the live table and took the slower way."""
    get_publisher().count(m.INDEX_FALLBACKS, {m.INDEX: index})


def record_rate_limited() -> None:
    """A request refused 429: its API key was over its rate limit."""
    get_publisher().count(m.RATE_LIMITED)


def record_leases_granted(count: int, *, expired: int) -> None:
    """Events leased by one request; `expired` of them had a lease that ran out."""
    if count:
        get_publisher().count(m.LEASES_GRANTED, value=count)
    if expired:
        get_publisher().count(m.LEASE_EXPIRIES, value=expired)


def record_lease_releases(count: int) -> None:
    get_publisher().count(m.LEASE_RELEASES, value=count)


def record_dead_letters(count: int) -> None:
    """Events dead-lettered: delivered LEASE_MAX_DELIVERIES times without an ack."""
    get_publisher().count(m.DEAD_LETTERS, value=count)


def record_redrives(count: int) -> None:
    get_publisher().count(m.REDRIVES, value=count)


def record_oldest_pending_age(seconds: float) -> None:
    """The age of the oldest event a lease or an inbox page returned: the backlog signal
    (alarmed on as its Maximum per minute)."""
    get_publisher().sample(m.OLDEST_PENDING_AGE, max(seconds, 0.0), m.SECONDS)

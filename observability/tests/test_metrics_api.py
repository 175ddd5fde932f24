"""Metrics of requests served over HTTP, published to moto's CloudWatch."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack.faultproxy import FaultProxy, Mode
from devstack.testing import Server, make_client, running_server, server_env
from observability import constants as m
from observability.alarms import alarm_definitions
from observability.dashboard import dashboard_body
from triggers.core.aws import aws_client

pytestmark = pytest.mark.integration

STAGE = "MetricsTest"
NAMESPACE = m.namespace(STAGE)


def metrics_env(tables: str, cloudwatch_url: str, *, stage: str, interval: str) -> dict[str, str]:
    return server_env(
        tables,
        METRICS_BACKEND="cloudwatch",
        METRICS_FLUSH_INTERVAL_SECONDS=interval,
        STAGE=stage,
        AWS_ENDPOINT_URL_CLOUDWATCH=cloudwatch_url,
    )


@pytest.fixture(scope="module")
def metrics_server(
    tables: str, moto_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    env = metrics_env(tables, moto_url, stage=STAGE, interval="0.5")
    with running_server(tmp_path_factory.mktemp("metrics"), env) as server:
        yield server


def cloudwatch() -> Any:
    return aws_client("cloudwatch")


def series_sum(name: str, dims: dict[str, str], stat: str = "Sum") -> float:
    response = cloudwatch().get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
        StartTime=datetime.now(UTC) - timedelta(hours=1),
        EndTime=datetime.now(UTC) + timedelta(minutes=5),
        Period=3600,
        Statistics=[stat],
    )
    return float(sum(point[stat] for point in response["Datapoints"]))


def wait_for(condition: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "metrics did not arrive in time"
        time.sleep(0.25)


@pytest.fixture(scope="module")
def traffic(metrics_server: Server) -> dict[str, int]:
    """A known mix of requests against the metrics-enabled server."""
    api = make_client(metrics_server)
    created = [api.create_event(payload={"n": n}) for n in range(6)]
    for event in created[:3]:
        api.get(f"/v1/events/{event['event_id']}")
    api.post(f"/v1/events/{created[0]['event_id']}/ack")
    api.delete(f"/v1/events/{created[1]['event_id']}")
    for _ in range(2):
        api.post("/v1/events", json={"source": ""})  # 400 VALIDATION_ERROR
    batch = [{"source": "metrics", "event_type": "batched", "payload": {"n": n}} for n in range(3)]
    assert api.post("/v1/events/batch", json={"events": batch}).status_code == 200
    api.get("/v1/inbox")
    api.get(f"/v1/events/{uuid.uuid4()}")  # 404 NOT_FOUND
    api.get("/v1/no-such-route-1")
    api.get("/v1/no-such-route-2")
    limited = make_client(metrics_server, rate_limit_per_second=0.01, rate_limit_burst=1)
    assert [limited.get("/v1/inbox").status_code for _ in range(2)] == [200, 429]
    expected = {"ingest_ok": 6, "ingest_bad": 2, "lookups": 3}
    wait_for(lambda: series_sum(m.REQUESTS, {"Endpoint": "/v1/events", "Method": "POST"}) >= 8)
    wait_for(lambda: series_sum(m.REQUESTS, {"Endpoint": "unmatched", "Method": "GET"}) >= 2)
    wait_for(
        lambda: series_sum(m.REQUESTS, {"Endpoint": "/v1/events/batch", "Method": "POST"}) >= 1
    )
    wait_for(lambda: series_sum(m.RATE_LIMITED, {}) >= 1)
    return expected


def test_requests_are_counted_per_route_template(traffic: dict[str, int]) -> None:
    post_events = {"Endpoint": "/v1/events", "Method": "POST"}
    assert series_sum(m.REQUESTS, post_events) == 8
    assert series_sum(m.SUCCESS, post_events) == 8  # 201s and 400s: no server error
    lookup = {"Endpoint": "/v1/events/{event_id}", "Method": "GET"}
    assert series_sum(m.REQUESTS, lookup) == 4
    # every unknown path lands in one bucket, not one series per path
    assert series_sum(m.REQUESTS, {"Endpoint": "unmatched", "Method": "GET"}) == 2


def test_errors_are_counted_by_type(traffic: dict[str, int]) -> None:
    dims = {"Endpoint": "/v1/events", "Method": "POST", "ErrorType": "VALIDATION_ERROR"}
    assert series_sum(m.ERRORS, dims) == 2
    dims = {"Endpoint": "/v1/events/{event_id}", "Method": "GET", "ErrorType": "NOT_FOUND"}
    assert series_sum(m.ERRORS, dims) == 1


def test_latency_is_published_as_raw_samples(traffic: dict[str, int]) -> None:
    dims = {"Endpoint": "/v1/events", "Method": "POST"}
    assert series_sum(m.LATENCY, dims, stat="SampleCount") == 8
    maximum = cloudwatch().get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=m.LATENCY,
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
        StartTime=datetime.now(UTC) - timedelta(hours=1),
        EndTime=datetime.now(UTC) + timedelta(minutes=5),
        Period=3600,
        Statistics=["Maximum", "Minimum"],
    )["Datapoints"][0]
    assert 0 < maximum["Minimum"] <= maximum["Maximum"] < 10_000


def test_ingestion_and_lookup_method_are_counted(traffic: dict[str, int]) -> None:
    assert series_sum(m.EVENTS_INGESTED, {}) == 6 + 3  # six single events, one batch of three
    assert series_sum(m.EVENT_LOOKUPS, {"LookupMethod": "gsi"}) >= 5  # get x4, ack, delete


def _emitted() -> set[tuple[str, frozenset[tuple[str, str]]]]:
    found = set()
    for page in cloudwatch().get_paginator("list_metrics").paginate(Namespace=NAMESPACE):
        for metric in page["Metrics"]:
            dims = frozenset((d["Name"], d["Value"]) for d in metric["Dimensions"])
            found.add((metric["MetricName"], dims))
    return found


def _dashboard_references() -> list[tuple[str, frozenset[tuple[str, str]]]]:
    references = []
    for widget in dashboard_body(namespace=NAMESPACE, region="us-east-1")["widgets"]:
        for row in widget["properties"]["metrics"]:
            if isinstance(row[0], dict):  # an expression: SEARCH names a metric and its keys
                search = re.search(
                    r"SEARCH\('\{[^,]+,([^}]*)\} MetricName=\"(\w+)\"", row[0]["expression"]
                )
                if search:
                    keys = frozenset((key, "*") for key in search.group(1).split(","))
                    references.append((search.group(2), keys))
                continue
            namespace, name, *rest = [part for part in row if not isinstance(part, dict)]
            assert namespace == NAMESPACE
            references.append((name, frozenset(zip(rest[::2], rest[1::2], strict=True))))
    return references


def _alarm_references() -> list[tuple[str, frozenset[tuple[str, str]]]]:
    references = []
    for alarm in alarm_definitions(namespace=NAMESPACE, stage=STAGE, actions=[]):
        queries = alarm.get("Metrics", [])
        metrics = [q["MetricStat"]["Metric"] for q in queries if "MetricStat" in q]
        if "MetricName" in alarm:
            metrics.append(alarm)
        for metric in metrics:
            assert metric["Namespace"] == NAMESPACE
            dims = frozenset((d["Name"], d["Value"]) for d in metric["Dimensions"])
            references.append((metric["MetricName"], dims))
    return references


# Emitted only when something is wrong, which this traffic does not provoke; the named
# tests show each one emitted. (A Scan lookup needs a table without the id index:
# test_gsi_migration.py.)
_ONLY_ON_FAILURE = {
    m.METRICS_DROPPED: "test_metrics.py (a CloudWatch outage)",
    m.METRICS_PUBLISH_FAILURES: "test_metrics.py (a CloudWatch outage)",
    m.SERVICE_UNAVAILABLE: "test_dynamodb_faults.py",
    m.READ_BUDGET_EXHAUSTED: "test_inbox_budget.py",
    m.INDEX_FALLBACKS: "test_gsi_migration.py",
}


def test_every_metric_the_dashboard_and_alarms_use_is_emitted(traffic: dict[str, int]) -> None:
    emitted = _emitted()
    missing = []
    for name, dims in _dashboard_references() + _alarm_references():
        if name in _ONLY_ON_FAILURE or (m.LOOKUP_METHOD, m.LOOKUP_SCAN) in dims:
            assert name in {*_ONLY_ON_FAILURE, m.EVENT_LOOKUPS}
            continue
        wildcard = {key for key, value in dims if value == "*"}
        fixed = {(k, v) for k, v in dims if v != "*"}
        matches = [
            got for got_name, got in emitted
            if got_name == name and fixed <= got and wildcard <= {k for k, _ in got}
            and len(got) == len(dims)
        ]  # fmt: skip
        # INTERNAL_ERROR needs a bug; its metric name and dimension keys must still match.
        if not matches and dict(dims).get(m.ERROR_TYPE) == m.INTERNAL_ERROR_TYPE:
            keys = {k for k, _ in dims}
            matches = [got for got_name, got in emitted if got_name == name
                       and {k for k, _ in got} == keys]  # fmt: skip
        if not matches:
            missing.append((name, sorted(dims)))
    assert missing == []


@pytest.mark.parametrize("failure", ["refuses", "hangs"])
def test_a_broken_cloudwatch_changes_no_response(
    tables: str, tmp_path_factory: pytest.TempPathFactory, failure: str
) -> None:
    # GIVEN a server whose CloudWatch refuses connections or never answers, flushing often
    hole = FaultProxy(upstream_port=9)  # DROP: accepts, reads, never answers
    hole.mode = Mode.DROP
    endpoint = hole.url if failure == "hangs" else "http://127.0.0.1:9"
    env = metrics_env(tables, endpoint, stage="Broken", interval="0.1")
    directory: Path = tmp_path_factory.mktemp(f"cloudwatch-{failure}")
    try:
        with running_server(directory, env) as server:
            api = make_client(server)
            # (a worker's first request builds its DynamoDB clients: not what is timed here)
            assert api.get("/v1/inbox").status_code == 200
            # WHEN requests keep coming while flushes fail
            timings = []
            for n in range(40):
                started = time.monotonic()
                response = api.post(
                    "/v1/events", json={"source": "s", "event_type": "t", "payload": {"n": n}}
                )
                timings.append(time.monotonic() - started)
                # THEN every response is exactly what it would be without metrics
                assert response.status_code == 201
            # AND no request waited on CloudWatch (its timeouts are seconds long)
            assert max(timings) < 1.0, timings
            logs = server.log_text()
    finally:
        hole.close()
    if failure == "refuses":
        assert "metrics_publish_failed" in logs


def test_a_worker_publishes_what_it_buffered_when_it_exits(
    tables: str, moto_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # GIVEN a server that would only flush once an hour
    stage = f"ExitTest{uuid.uuid4().hex[:6]}"
    env = metrics_env(tables, moto_url, stage=stage, interval="3600")
    with running_server(tmp_path_factory.mktemp("exit-flush"), env) as server:
        api = make_client(server)
        for _ in range(3):
            api.get("/v1/inbox")
        # WHEN it shuts down (gunicorn's worker_exit hook)
    # THEN the buffered requests reached CloudWatch
    response = cloudwatch().get_metric_statistics(
        Namespace=m.namespace(stage),
        MetricName=m.REQUESTS,
        Dimensions=[{"Name": "Endpoint", "Value": "/v1/inbox"}, {"Name": "Method", "Value": "GET"}],
        StartTime=datetime.now(UTC) - timedelta(hours=1),
        EndTime=datetime.now(UTC) + timedelta(minutes=5),
        Period=3600,
        Statistics=["Sum"],
    )
    assert sum(point["Sum"] for point in response["Datapoints"]) == 3


def test_requests_dying_with_a_worker_killed_for_its_timeout_are_counted(
    tables: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # GIVEN a server whose DynamoDB answers slowly, so a request stays in flight
    proxy = FaultProxy(upstream_port=int(tables.rsplit(":", 1)[1]), delay_seconds=10)
    env = server_env(
        proxy.url,
        WEB_CONCURRENCY="1",
        API_KEY_CACHE_SECONDS="3600",
        METRICS_BACKEND="log",
        METRICS_FLUSH_INTERVAL_SECONDS="3600",  # only the worker's exit flushes
    )
    with running_server(tmp_path_factory.mktemp("abandoned"), env) as server:
        api = make_client(server)
        assert api.get("/v1/inbox").status_code == 200  # the key is cached from here on
        proxy.mode = Mode.DELAY
        seen = proxy.requests_seen
        in_flight = threading.Thread(target=lambda: _ignore_errors(api.get, "/v1/inbox"))
        in_flight.start()
        wait_for(lambda: proxy.requests_seen > seen)  # it waits on DynamoDB now

        # WHEN gunicorn's master gives up on the worker: SIGABRT, as its timeout does
        (worker,) = _children(server.service.process.pid)
        os.kill(worker, signal.SIGABRT)
        in_flight.join(timeout=30)

        # THEN the request that died with it is logged and counted as a 502 WORKER_TIMEOUT
        wait_for(lambda: any(line["event"] == "metrics_flushed" for line in server.log_lines()))
        lines = server.log_lines()
        (abandoned,) = [line for line in lines if line["event"] == "request_abandoned"]
        assert (abandoned["endpoint"], abandoned["reason"]) == ("/v1/inbox", "worker_timeout")
        errors = server.published(m.ERRORS)
        assert {"Endpoint": "/v1/inbox", "Method": "GET", "ErrorType": "WORKER_TIMEOUT"} in errors
    proxy.close()


def _children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


def _ignore_errors(call: Any, *args: Any) -> None:
    with contextlib.suppress(requests.RequestException):
        call(*args)

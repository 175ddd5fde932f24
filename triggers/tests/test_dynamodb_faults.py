"""Real DynamoDB faults, over real HTTP: the service answers 503 + Retry-After within its
deadline, health follows DynamoDB down and back up without a restart, and every event
that got a 201 is readable afterwards.

The stack: a DynamoDB Local of its own (on disk, so it can be killed and restarted),
a FaultProxy in front of it, and one gunicorn worker (so its API-key cache is warm
and the faults hit the data path, not authentication).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from devstack.faultproxy import FaultProxy, Mode
from devstack.localstack import Service
from devstack.stack import QUICK_JVM, LocalStack, local_stack
from devstack.testing import (
    TEST_ENV,
    ApiClient,
    Server,
    assert_error,
    running_server,
    server_env,
)

pytestmark = pytest.mark.integration

# How promptly a 503 comes is not timed here (a busy machine would fail such a test): the
# server's read timeout is a minute, so a DynamoDB that never answers could only be
# answered before the client gives up (30 s, ApiClient) by the request's 4 s deadline.
# The deadline's arithmetic itself is tested deterministically in
# triggers/core/tests/test_deadline.py.
HUNG_ATTEMPT_SECONDS = "60"
DATA_PLANE = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "TransactWriteItems",
    "BatchWriteItem",
}


@dataclass
class Stack:
    local: LocalStack  # its own DynamoDB Local, kept on disk, so it can be killed and restarted
    proxy: FaultProxy
    server: Server
    api: ApiClient
    stored: list[dict[str, Any]] = field(default_factory=list)  # every 201 so far

    @property
    def dynamodb(self) -> Service:
        assert self.local.dynamodb is not None
        return self.local.dynamodb

    def create(self, **overrides: Any) -> dict[str, Any]:
        created = self.api.create_event(**overrides)
        self.stored.append(created)
        return created

    def restart_dynamodb(self) -> None:
        self.local.restart_dynamodb()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("faults")
    (directory / "dynamodb").mkdir()
    settings = {**TEST_ENV, "TABLE_PREFIX": "triggers-faults"}
    with local_stack(
        directory,
        settings=settings,
        dynamodb_data=directory / "dynamodb",
        java_options=QUICK_JVM,
        moto=False,
    ) as local:
        assert local.dynamodb is not None
        proxy = FaultProxy(upstream_port=int(local.dynamodb_url.rsplit(":", 1)[1]))
        env = server_env(
            proxy.url,
            TABLE_PREFIX="triggers-faults",
            # one worker (its key cache stays warm), threads for every concurrent request
            WEB_CONCURRENCY="1",
            GUNICORN_THREADS="8",
            API_KEY_CACHE_SECONDS="3600",
            LOG_LEVEL="DEBUG",  # every DynamoDB call is logged with its operation
            METRICS_BACKEND="log",
            METRICS_FLUSH_INTERVAL_SECONDS="0.2",
            DYNAMODB_READ_TIMEOUT_SECONDS=HUNG_ATTEMPT_SECONDS,
            DYNAMODB_DEADLINE_SECONDS="4",  # the default, which the tests' servers raise
        )
        key = local.api_key("faults")
        try:
            with running_server(directory, env) as server:
                api = ApiClient(base_url=server.url, api_key=key, tenant_id="faults")
                assert api.get("/v1/inbox").status_code == 200  # warms the key cache
                yield Stack(local, proxy, server, api)
        finally:
            proxy.close()
            if local.dynamodb is not None:  # a paused DynamoDB Local cannot be stopped
                os.kill(local.dynamodb.process.pid, signal.SIGCONT)


def assert_prompt_503(response: requests.Response) -> None:
    """A 503 with Retry-After; prompt, since it came before the client's timeout."""
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["Retry-After"] == "1"


Requests = dict[str, Callable[[], requests.Response]]


def data_path_requests(stack: Stack) -> Requests:
    """One of each kind of DynamoDB work, on an event stored now (before the fault)."""
    api, existing = stack.api, stack.create()
    path = f"/v1/events/{existing['event_id']}"
    body = {"source": "faults", "event_type": "during", "payload": {"n": 1}}
    return {
        "ingest": lambda: api.post("/v1/events", json=body),
        "idempotent ingest": lambda: api.post(
            "/v1/events", json=body, headers={"Idempotency-Key": f"fault-{time.time_ns()}"}
        ),
        "batch ingest": lambda: api.post("/v1/events/batch", json={"events": [body, body]}),
        "inbox": lambda: api.get("/v1/inbox"),
        "filtered inbox": lambda: api.get("/v1/inbox", params={"source": "faults"}),
        "lookup": lambda: api.get(path),
        "ack": lambda: api.post(path + "/ack"),
        "delete": lambda: api.delete(path),
    }


def assert_every_request_gets_a_prompt_503(requests_by_name: Requests) -> None:
    with ThreadPoolExecutor(max_workers=len(requests_by_name)) as pool:
        answers = dict(
            zip(
                requests_by_name,
                pool.map(lambda call: call(), requests_by_name.values()),
                strict=True,
            )
        )
    for name, response in answers.items():
        assert response.status_code == 503, f"{name}: {response.status_code} {response.text}"
        assert_prompt_503(response)


def health(stack: Stack) -> requests.Response:
    return requests.get(stack.server.url + "/v1/health", timeout=30)


def wait_until_healthy(stack: Stack, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while health(stack).status_code != 200:
        assert time.monotonic() < deadline, "health did not recover"
        time.sleep(0.2)


def assert_stored_events_readable(stack: Stack) -> None:
    for created in stack.stored:
        response = stack.api.get(f"/v1/events/{created['event_id']}")
        assert response.status_code in (200, 404), response.text  # 404: deleted by a test
        if response.status_code == 200:
            assert response.json()["created_at"] == created["created_at"]


def unavailable_causes(stack: Stack) -> set[str]:
    return {
        line["cause"] for line in stack.server.log_lines() if line["event"] == "service_unavailable"
    }


def test_paused_dynamodb_is_a_prompt_503_and_health_recovers_without_restart(
    stack: Stack,
) -> None:
    # GIVEN events stored while DynamoDB is healthy
    kept = [stack.create(payload={"n": n}) for n in range(3)]
    pending = data_path_requests(stack)

    # WHEN DynamoDB Local is paused (it accepts connections and never answers)
    os.kill(stack.dynamodb.process.pid, signal.SIGSTOP)
    try:
        # THEN every kind of request is answered 503 with Retry-After, within the deadline
        assert_every_request_gets_a_prompt_503(pending)
        # AND deep health says so, promptly, while liveness stays up
        response = health(stack)
        assert response.status_code == 503
        assert response.json()["checks"]["dynamodb"]["error"] == "ReadTimeoutError"
        live = requests.get(stack.server.url + "/v1/health/live", timeout=5)
        assert live.status_code == 200
    finally:
        os.kill(stack.dynamodb.process.pid, signal.SIGCONT)

    # THEN health recovers without restarting the service, and nothing stored was lost
    wait_until_healthy(stack)
    for created in kept:
        assert stack.api.get(f"/v1/events/{created['event_id']}").status_code == 200
    assert "timeout" in unavailable_causes(stack)


def test_a_503_write_retried_with_its_key_lands_exactly_once(stack: Stack) -> None:
    # GIVEN a write that timed out (DynamoDB paused: it may or may not have been stored)
    body = {"source": "faults", "event_type": "retried", "payload": {"order": 42}}
    headers = {"Idempotency-Key": f"retry-{time.time_ns()}"}
    os.kill(stack.dynamodb.process.pid, signal.SIGSTOP)
    try:
        assert_prompt_503(stack.api.post("/v1/events", json=body, headers=headers))
    finally:
        os.kill(stack.dynamodb.process.pid, signal.SIGCONT)
    wait_until_healthy(stack)

    # WHEN the client retries with the same key until it gets an answer
    retried = stack.api.post("/v1/events", json=body, headers=headers)
    again = stack.api.post("/v1/events", json=body, headers=headers)

    # THEN it has one event: a 201 (not stored before) or a 200 replay (stored), never two
    assert retried.status_code in (200, 201), retried.text
    assert again.status_code == 200
    assert again.json()["event_id"] == retried.json()["event_id"]
    stack.stored.append(retried.json())
    inbox = stack.api.get("/v1/inbox", params={"event_type": "retried", "limit": 100}).json()
    assert [e["event_id"] for e in inbox["events"]] == [retried.json()["event_id"]]


def test_killed_dynamodb_is_a_prompt_503_and_a_restart_recovers(stack: Stack) -> None:
    # GIVEN an event stored before DynamoDB Local dies
    kept = stack.create(payload={"before": "kill"})
    pending = data_path_requests(stack)

    # WHEN it is killed (connections refused)
    stack.dynamodb.process.kill()
    stack.dynamodb.process.wait()
    try:
        # THEN requests fail fast with 503, and health says unhealthy
        assert_every_request_gets_a_prompt_503(pending)
        assert health(stack).status_code == 503
    finally:
        # WHEN it is started again on the same port and data
        stack.restart_dynamodb()

    # THEN the service recovers by itself, with the event stored before the crash
    wait_until_healthy(stack)
    assert stack.api.get(f"/v1/events/{kept['event_id']}").status_code == 200
    assert stack.create(payload={"after": "restart"})["status"] == "pending"
    assert "connection" in unavailable_causes(stack)


@pytest.mark.parametrize(
    ("mode", "cause"),
    [
        (Mode.DELAY, "timeout"),
        (Mode.DROP, "timeout"),
        (Mode.RESET, "connection"),
        (Mode.THROTTLE, "throttled"),
        (Mode.SERVER_ERROR, "server_error"),
    ],
)
def test_network_and_dynamodb_faults_are_prompt_503s(stack: Stack, mode: Mode, cause: str) -> None:
    kept = stack.create(payload={"mode": mode.value})
    pending = data_path_requests(stack)
    stack.proxy.mode = mode
    try:
        assert_every_request_gets_a_prompt_503(pending)
        assert health(stack).status_code == 503
    finally:
        stack.proxy.mode = Mode.PASS
    wait_until_healthy(stack)
    assert cause in unavailable_causes(stack)
    assert stack.api.get(f"/v1/events/{kept['event_id']}").status_code == 200


def test_a_batch_transaction_dynamodb_cancels_is_tried_again_until_all_are_stored(
    stack: Stack,
) -> None:
    # GIVEN a DynamoDB that cancels the next two transactions (TransactionConflict)
    events = [
        {"source": "faults", "event_type": "cancelled", "payload": {"n": n}} for n in range(25)
    ]
    stack.proxy.mode, stack.proxy.failures_left = Mode.CONFLICT, 2
    try:
        # WHEN 25 events are sent in one batch
        response = stack.api.post("/v1/events/batch", json={"events": events})
        cancellations_left = stack.proxy.failures_left
    finally:
        stack.proxy.mode, stack.proxy.failures_left = Mode.PASS, None

    # THEN the transaction was sent again until DynamoDB took it: every event is stored
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert all("event_id" in result for result in results), results
    assert cancellations_left == 0
    for result in results:
        assert stack.api.get(f"/v1/events/{result['event_id']}").status_code == 200
        stack.stored.append({**result, "created_at": result["created_at"]})


def test_transaction_conflicts_after_retries_are_a_503_and_store_nothing(stack: Stack) -> None:
    # GIVEN DynamoDB cancelling every transaction with TransactionConflict
    body = {"source": "faults", "event_type": "conflicted", "payload": {"n": 1}}
    headers = {"Idempotency-Key": f"conflict-{time.time_ns()}"}
    stack.proxy.mode = Mode.CONFLICT
    try:
        # WHEN an idempotent write is made, THEN it gives up with a 503 in time
        assert_prompt_503(stack.api.post("/v1/events", json=body, headers=headers))
        # AND a write without a key (no transaction) still succeeds
        plain = stack.api.post("/v1/events", json={**body, "event_type": "plain"})
        assert plain.status_code == 201
        stack.stored.append(plain.json())
    finally:
        stack.proxy.mode = Mode.PASS
    assert "conflict" in unavailable_causes(stack)

    # WHEN the client retries with its key, THEN the event lands once
    retried = stack.api.post("/v1/events", json=body, headers=headers)
    assert retried.status_code == 201
    stack.stored.append(retried.json())


def test_no_control_plane_call_on_the_request_path_and_causes_are_counted(
    stack: Stack,
) -> None:
    # GIVEN the traffic of this module (and some of each endpoint, to be sure)
    created = stack.create()
    stack.api.get(f"/v1/events/{created['event_id']}")
    stack.api.get("/v1/inbox", params={"source": "faults", "event_type": "during"})
    requests.get(stack.server.url + "/v1/health", timeout=10)
    lines = stack.server.log_lines()

    # THEN the service made data-plane calls only (no DescribeTable, ever)
    operations = {
        line["operation"]
        for line in lines
        if line["event"] in ("dynamodb_call", "dynamodb_call_failed")
    }
    assert operations
    assert operations <= DATA_PLANE

    # AND every 503 cause it logged reached the metrics it publishes
    def published() -> set[str]:
        return {dims["Cause"] for dims in stack.server.published("ServiceUnavailable")}

    deadline = time.monotonic() + 30  # a hang detector, not a measurement
    while not unavailable_causes(stack) <= published():
        assert time.monotonic() < deadline, (unavailable_causes(stack), published())
        time.sleep(0.2)
    assert_stored_events_readable(stack)


def test_a_write_dynamodb_refuses_for_good_is_answered_so_never_retried(stack: Stack) -> None:
    # GIVEN a DynamoDB refusing new items as too large (a permanent ValidationError)
    body = {"source": "faults", "event_type": "refused", "payload": {"n": 1}}
    events = [{**body, "payload": {"n": n}} for n in range(3)]
    stack.proxy.mode = Mode.ITEM_TOO_LARGE
    try:
        # WHEN one event is written plainly, and one with an idempotency key
        plain = stack.api.post("/v1/events", json=body)
        keyed = stack.api.post(
            "/v1/events", json=body, headers={"Idempotency-Key": f"refused-{time.time_ns()}"}
        )
        # AND a batch whose first event alone is refused
        stack.proxy.failures_left = 1
        batch = stack.api.post("/v1/events/batch", json={"events": events})
    finally:
        stack.proxy.mode, stack.proxy.failures_left = Mode.PASS, None

    # THEN each refused event is a 413 at once, never a 503 inviting a retry
    for response in (plain, keyed):
        error = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
        assert error["details"] == {"reason": "item_size"}
        # one write of the event, not retried (the rate limiter's own counter update may
        # land in the same request when its window turns: it is not the event's write)
        writes = [
            line
            for line in stack.server.lines_for(response.headers["X-Request-ID"])
            if line["event"] in ("dynamodb_call", "dynamodb_call_failed")
            and line["operation"] in ("PutItem", "TransactWriteItems")
        ]
        assert len(writes) == 1, writes
    # AND in the batch only that event failed; the others were sent again and stored
    assert batch.status_code == 200, batch.text
    refused, *stored = batch.json()["results"]
    assert refused["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert [result["status"] for result in stored] == ["pending", "pending"]
    for result in stored:
        stack.stored.append({**result, "source": "faults", "event_type": "refused"})


def test_a_batch_never_hides_one_events_outcome_behind_anothers_503(stack: Stack) -> None:
    # GIVEN a DynamoDB that throttles every call
    valid = {"source": "faults", "event_type": "hidden", "payload": {"n": 1}}
    invalid = {"source": "", "event_type": "hidden", "payload": {}}
    stack.proxy.mode = Mode.THROTTLE
    try:
        # WHEN a batch holds an invalid event and a valid one; and one only valid ones
        mixed = stack.api.post("/v1/events/batch", json={"events": [invalid, valid]})
        all_valid = stack.api.post("/v1/events/batch", json={"events": [valid, valid]})
    finally:
        stack.proxy.mode = Mode.PASS

    # THEN the mixed batch says each event's own outcome
    assert mixed.status_code == 200, mixed.text
    first, second = mixed.json()["results"]
    assert first["error"]["code"] == "VALIDATION_ERROR"
    assert second["error"]["code"] == "SERVICE_UNAVAILABLE"
    # AND only a batch whose every event met a 503 is a 503, with Retry-After
    assert_prompt_503(all_valid)

"""The per-key rate limit over real HTTP: gunicorn, DynamoDB Local, the shared counter.

Nothing here depends on how fast the machine is: the keys refill a token every
10,000 s (SLOW, so a slow test never earns one back) and the servers' counter windows
are an hour long (a test starts clear of a window's last minute, `start_of_a_window`),
so a test's requests meet one bucket state and one window however long they take.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from devstack.testing import (
    ApiClient,
    Server,
    assert_error,
    make_client,
    running_server,
    server_env,
)

pytestmark = pytest.mark.integration

WINDOW_SECONDS = 3600  # these servers' RATE_LIMIT_WINDOW_SECONDS
SLOW = 0.0001  # requests a second: a token every 10,000 s, and rate x window under 1


@pytest.fixture(scope="module")
def one_worker(tables: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One worker, its key cache warm for the whole module: every request of a client
    meets the same bucket, and `dynamodb_calls` counts only the request's own work."""
    env = server_env(
        tables,
        WEB_CONCURRENCY="1",
        API_KEY_CACHE_SECONDS="3600",
        RATE_LIMIT_WINDOW_SECONDS=str(WINDOW_SECONDS),
    )
    with running_server(tmp_path_factory.mktemp("rate-limit"), env) as running:
        yield running


@pytest.fixture(scope="module")
def two_workers(tables: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = server_env(tables, WEB_CONCURRENCY="2", RATE_LIMIT_WINDOW_SECONDS=str(WINDOW_SECONDS))
    with running_server(tmp_path_factory.mktemp("rate-limit-2"), env) as running:
        yield running


def start_of_a_window(margin: float = 60.0) -> None:
    """Wait, if need be, so that the next `margin` seconds lie in one counter window."""
    left = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    if left < margin:
        time.sleep(left + 0.05)


def batch(size: int) -> dict[str, object]:
    return {
        "events": [
            {"source": "rate-limit", "event_type": "batched", "payload": {"n": n}}
            for n in range(size)
        ]
    }


def test_a_key_gets_its_burst_then_429_with_retry_after(one_worker: Server) -> None:
    # GIVEN a key allowed 3 at once, then a token every 10,000 s
    client = make_client(one_worker, rate_limit_per_second=SLOW, rate_limit_burst=3)
    start_of_a_window()

    # WHEN it sends 5 requests at once
    responses = [client.get("/v1/inbox") for _ in range(5)]

    # THEN 3 are served, counting down, and the rest refused with the envelope and a wait
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["2", "1", "0", "0", "0"]
    assert {r.headers["X-RateLimit-Limit"] for r in responses} == {"3"}
    refused = responses[-1]
    error = assert_error(refused, 429, "RATE_LIMITED")
    assert "Rate limit exceeded" in error["message"]
    assert 9_000 <= int(refused.headers["Retry-After"]) <= 10_000  # a token every 10,000 s
    assert 20_000 <= int(refused.headers["X-RateLimit-Reset"]) <= 30_000  # three of them


def test_a_refusal_costs_no_dynamodb_call_and_is_logged(one_worker: Server) -> None:
    client = make_client(one_worker, rate_limit_per_second=SLOW, rate_limit_burst=1)
    start_of_a_window()
    assert client.get("/v1/inbox").status_code == 200

    refused = client.get("/v1/inbox")

    assert refused.status_code == 429
    assert one_worker.line(refused, "request_finished")["dynamodb_calls"] == 0
    logged = one_worker.line(refused, "rate_limited")
    assert logged["tenant_id"] == client.tenant_id
    assert logged["retry_after_seconds"] == int(refused.headers["Retry-After"])
    assert client.api_key is not None
    assert client.api_key not in one_worker.log_text()


def test_a_batch_counts_as_its_events(one_worker: Server) -> None:
    client = make_client(one_worker, rate_limit_per_second=SLOW, rate_limit_burst=30)
    start_of_a_window()

    assert client.post("/v1/events/batch", json=batch(25)).status_code == 200
    # 10 more cannot be paid: refused, though its request paid its one token first
    too_many = client.post("/v1/events/batch", json=batch(10))
    assert_error(too_many, 429, "RATE_LIMITED")
    assert client.post("/v1/events/batch", json=batch(4)).status_code == 200
    assert_error(client.post("/v1/events/batch", json=batch(1)), 429, "RATE_LIMITED")
    reader = make_client(one_worker, client.tenant_id)  # the tenant's other key, unspent
    assert len(reader.get("/v1/inbox?limit=100").json()["events"]) == 29  # the 10: not stored


def test_a_batch_larger_than_the_burst_is_refused_as_it_never_could_pass(
    one_worker: Server,
) -> None:
    client = make_client(one_worker, rate_limit_per_second=SLOW, rate_limit_burst=5)
    start_of_a_window()
    error = assert_error(client.post("/v1/events/batch", json=batch(6)), 400, "VALIDATION_ERROR")
    assert "at most 5 events at once" in error["message"]
    assert error["details"] == {"events": ["More events than this key's burst (5)."]}
    # its request paid its one token before the body was read: 4 are left
    assert client.post("/v1/events/batch", json=batch(4)).status_code == 200


def test_a_request_pays_before_its_body_is_parsed(one_worker: Server) -> None:
    # GIVEN a key with a burst of 3, and bodies that cannot even be parsed
    client = make_client(one_worker, rate_limit_per_second=SLOW, rate_limit_burst=3)
    start_of_a_window()
    malformed = {"data": b'{"events": [', "headers": {"Content-Type": "application/json"}}

    # WHEN three are sent, THEN each is a 400 that still spent a token
    for _ in range(3):
        assert_error(client.post("/v1/events/batch", **malformed), 400, "VALIDATION_ERROR")

    # AND the next request, malformed or not, is refused before its body is read
    refused = client.post("/v1/events/batch", **malformed)
    assert_error(refused, 429, "RATE_LIMITED")
    assert_error(client.post("/v1/events/batch", json=batch(1)), 429, "RATE_LIMITED")


def test_every_authenticated_answer_carries_the_headers_and_no_other_does(
    one_worker: Server,
) -> None:
    client = make_client(one_worker)
    not_found = client.get("/v1/events/0190a0c8-0000-7000-8000-000000000000")
    invalid = client.post("/v1/events", json={"source": ""})
    for response in (not_found, invalid):
        assert response.status_code in (400, 404)
        assert response.headers["X-RateLimit-Limit"] == "200"  # the settings' default burst

    anonymous = requests.get(one_worker.url + "/v1/inbox", timeout=10)
    health = requests.get(one_worker.url + "/v1/health/live", timeout=10)
    for response in (anonymous, health):
        assert "X-RateLimit-Limit" not in response.headers


def test_the_limit_holds_across_workers(two_workers: Server) -> None:
    # GIVEN a two-worker server and a key allowed 3 per window, whichever worker serves it
    server = two_workers
    client = make_client(server, rate_limit_per_second=SLOW, rate_limit_burst=3)
    start_of_a_window()

    # WHEN 12 requests arrive on separate connections, so both workers serve some
    def get(_: int) -> int:
        headers = {"X-API-Key": client.api_key or ""}
        return requests.get(server.url + "/v1/inbox", headers=headers, timeout=10).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(get, range(12)))

    # THEN exactly 3 were served in all
    assert sorted(statuses) == [200] * 3 + [429] * 9


def test_a_key_over_its_limit_does_not_limit_another(one_worker: Server) -> None:
    noisy = make_client(one_worker, rate_limit_per_second=SLOW, rate_limit_burst=1)
    quiet: ApiClient = make_client(one_worker)
    start_of_a_window()
    assert noisy.get("/v1/inbox").status_code == 200
    for _ in range(10):
        assert noisy.get("/v1/inbox").status_code == 429
        assert quiet.get("/v1/inbox").status_code == 200

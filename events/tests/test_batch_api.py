"""POST /v1/events/batch over real HTTP: one BatchWriteItem, per-event results."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.testing import ApiClient, Server, assert_error, warm_client

pytestmark = pytest.mark.integration


def event(n: int, **overrides: Any) -> dict[str, Any]:
    return {"source": "batch", "event_type": "item.made", "payload": {"n": n}, **overrides}


def test_25_events_are_stored_in_one_call_and_answered_in_order(counting_server: Server) -> None:
    api = warm_client(counting_server)

    response = api.post("/v1/events/batch", json={"events": [event(n) for n in range(25)]})

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(25))
    assert all(r["status"] == "pending" and r["replayed"] is False for r in results)
    assert counting_server.line(response, "request_finished")["dynamodb_calls"] == 1
    stored = api.get("/v1/inbox", params={"limit": 100}).json()["events"]
    assert sorted(e["event_id"] for e in stored) == sorted(r["event_id"] for r in results)
    assert {e["event_id"]: e["payload"]["n"] for e in stored} == {
        r["event_id"]: r["index"] for r in results
    }


def test_an_invalid_event_fails_alone(api: ApiClient) -> None:
    events = [event(0), {"source": "", "event_type": "x", "payload": {}}, "not an object", event(3)]

    results = api.post("/v1/events/batch", json={"events": events}).json()["results"]

    assert [("error" in r) for r in results] == [False, True, True, False]
    invalid = results[1]["error"]
    assert invalid["code"] == "VALIDATION_ERROR"
    assert set(invalid["details"]) == {"source", "payload"}
    assert results[2]["error"]["code"] == "VALIDATION_ERROR"
    assert api.get(f"/v1/events/{results[3]['event_id']}").status_code == 200


def test_an_event_over_the_size_limit_fails_alone(api: ApiClient) -> None:
    huge = event(1, payload={"blob": "x" * 300_000})

    results = api.post("/v1/events/batch", json={"events": [event(0), huge]}).json()["results"]

    assert "event_id" in results[0]
    assert results[1]["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert results[1]["error"]["details"] == {"max_bytes": 262144}


@pytest.mark.parametrize(
    "body",
    [{}, {"events": []}, {"events": [event(n) for n in range(26)]}, {"events": {"a": 1}},
     {"events": [event(0)], "extra": 1}, [event(0)]],
)  # fmt: skip
def test_a_body_that_is_not_1_to_25_events_is_a_400(api: ApiClient, body: Any) -> None:
    assert_error(api.post("/v1/events/batch", json=body), 400, "VALIDATION_ERROR")


def test_idempotency_is_per_event(api: ApiClient) -> None:
    keyed = event(1, metadata={"idempotency_key": "batch-key-1"})
    first = api.post("/v1/events/batch", json={"events": [event(0), keyed]}).json()["results"]

    # WHEN the same batch is retried, and the key is reused with another body
    retried = api.post("/v1/events/batch", json={"events": [event(0), keyed]}).json()["results"]
    changed = event(9, metadata={"idempotency_key": "batch-key-1"})
    conflict = api.post("/v1/events/batch", json={"events": [changed]}).json()["results"]

    # THEN the keyed event is replayed, the unkeyed one stored again, the reuse refused
    assert retried[1]["replayed"] is True
    assert retried[1]["event_id"] == first[1]["event_id"]
    assert retried[1]["created_at"] == first[1]["created_at"]
    assert retried[0]["event_id"] != first[0]["event_id"]
    assert conflict[0]["error"]["code"] == "CONFLICT"


def test_the_same_key_twice_in_a_batch_stores_one_event(api: ApiClient) -> None:
    keyed = event(1, metadata={"idempotency_key": "twice"})
    results = api.post("/v1/events/batch", json={"events": [keyed, keyed]}).json()["results"]
    assert results[0]["replayed"] is False
    assert results[1]["replayed"] is True
    assert results[0]["event_id"] == results[1]["event_id"]
    assert len(api.get("/v1/inbox").json()["events"]) == 1


def test_the_idempotency_key_header_is_refused_on_a_batch(api: ApiClient) -> None:
    response = api.post(
        "/v1/events/batch", json={"events": [event(0)]}, headers={"Idempotency-Key": "k"}
    )
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert "idempotency_key" in error["details"]

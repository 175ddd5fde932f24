"""POST /v1/events over real HTTP against DynamoDB Local."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from devstack.testing import ApiClient, assert_error

pytestmark = pytest.mark.integration

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
VALID = {"source": "billing", "event_type": "invoice.paid", "payload": {"amount": 42}}


def test_create_event_returns_201_with_the_contract_fields(api: ApiClient) -> None:
    response = api.post("/v1/events", json=VALID)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"event_id", "created_at", "status", "source", "event_type", "request_id"}
    assert body["status"] == "pending"
    assert body["source"] == "billing"
    assert body["event_type"] == "invoice.paid"
    assert TIMESTAMP.fullmatch(body["created_at"])
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_payload_round_trips_byte_for_byte(api: ApiClient) -> None:
    # GIVEN a payload with big numbers, decimals as written, unicode and nesting
    payload = (
        '{"big":123456789012345678901234567890,"dec":1.10,"exp":1E+5,'
        '"text":"caf\u00e9 \U0001f600","nested":{"list":[1,{"deep":null}],"empty":{}}}'
    )
    body = '{"source":"s","event_type":"t","payload":' + payload + "}"
    # WHEN it is stored and read back
    created = api.post(
        "/v1/events", data=body.encode(), headers={"Content-Type": "application/json"}
    )
    event_id = created.json()["event_id"]
    fetched = api.get(f"/v1/events/{event_id}")
    # THEN the payload's JSON text is exactly what was sent
    raw = fetched.content.decode()
    assert '"payload":' + payload + "," in raw


def test_source_and_event_type_are_trimmed(api: ApiClient) -> None:
    body = {**VALID, "source": "  billing  ", "event_type": "\tinvoice.paid\n"}
    response = api.post("/v1/events", json=body)
    assert response.status_code == 201
    assert response.json()["source"] == "billing"
    assert response.json()["event_type"] == "invoice.paid"


def test_metadata_is_stored_with_default_priority(api: ApiClient) -> None:
    created = api.create_event(metadata={"correlation_id": "abc-123"})
    event = api.get(f"/v1/events/{created['event_id']}").json()
    assert event["metadata"] == {
        "correlation_id": "abc-123",
        "priority": "normal",
        "idempotency_key": None,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event_type": "t", "payload": {"a": 1}}, "source"),
        ({"source": "s", "payload": {"a": 1}}, "event_type"),
        ({"source": "s", "event_type": "t"}, "payload"),
        ({**VALID, "payload": {}}, "payload"),
        ({**VALID, "payload": [1, 2]}, "payload"),
        ({**VALID, "payload": "text"}, "payload"),
        ({**VALID, "payload": None}, "payload"),
        ({**VALID, "source": 42}, "source"),
        ({**VALID, "event_type": True}, "event_type"),
        ({**VALID, "source": ""}, "source"),
        ({**VALID, "source": "   "}, "source"),
        ({**VALID, "source": "x" * 101}, "source"),
        ({**VALID, "event_type": "y" * 101}, "event_type"),
        ({**VALID, "surprise": 1}, "surprise"),
        ({**VALID, "metadata": "nope"}, "metadata"),
        ({**VALID, "metadata": {"priority": "urgent"}}, "metadata"),
        ({**VALID, "metadata": {"unknown": "x"}}, "metadata"),
        ({**VALID, "metadata": {"idempotency_key": "has space"}}, "metadata"),
    ],
)
def test_invalid_body_is_a_400_naming_the_field(
    api: ApiClient, body: dict[str, Any], field: str
) -> None:
    error = assert_error(api.post("/v1/events", json=body), 400, "VALIDATION_ERROR")
    assert field in error["details"]


def test_exactly_100_characters_is_accepted(api: ApiClient) -> None:
    response = api.post("/v1/events", json={**VALID, "source": "x" * 100})
    assert response.status_code == 201


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"source": "s",}', b"", b'{"payload": {"x": NaN}}', b"\xff\xfe", b"[]"],
)
def test_malformed_json_is_a_400(api: ApiClient, raw: bytes) -> None:
    response = api.post("/v1/events", data=raw, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "VALIDATION_ERROR")


def test_body_over_max_event_bytes_is_a_413(api: ApiClient) -> None:
    body = {**VALID, "payload": {"blob": "x" * (256 * 1024)}}
    error = assert_error(api.post("/v1/events", json=body), 413, "PAYLOAD_TOO_LARGE")
    assert error["details"]["max_bytes"] == 256 * 1024


def test_body_just_under_the_limit_is_accepted(api: ApiClient) -> None:
    body = {**VALID, "payload": {"blob": "x" * (250 * 1024)}}
    assert api.post("/v1/events", json=body).status_code == 201


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_wrong_content_type_is_a_415(api: ApiClient, content_type: str) -> None:
    response = api.post("/v1/events", data=b'{"a": 1}', headers={"Content-Type": content_type})
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_missing_content_type_with_a_body_is_a_415(api: ApiClient) -> None:
    response = api.post("/v1/events", data=b'{"a": 1}', headers={"Content-Type": ""})
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_wrong_method_is_a_405(api: ApiClient, method: str) -> None:
    assert_error(api.request(method, "/v1/events"), 405, "METHOD_NOT_ALLOWED")


def test_accept_header_never_causes_a_406(api: ApiClient) -> None:
    response = api.post("/v1/events", json=VALID, headers={"Accept": "text/html"})
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"


def test_unknown_route_is_a_json_404(api: ApiClient) -> None:
    assert_error(api.get("/v1/nothing-here"), 404, "NOT_FOUND")
    assert_error(api.get("/"), 404, "NOT_FOUND")


def test_caller_request_id_is_echoed_when_safe(api: ApiClient) -> None:
    response = api.post("/v1/events", json=VALID, headers={"X-Request-ID": "trace-1.2_3"})
    assert response.headers["X-Request-ID"] == "trace-1.2_3"
    assert response.json()["request_id"] == "trace-1.2_3"


@pytest.mark.parametrize("unsafe", ["has space", "x" * 129, "semi;colon", "<script>"])
def test_unsafe_request_id_is_replaced(api: ApiClient, unsafe: str) -> None:
    response = api.post("/v1/events", json=VALID, headers={"X-Request-ID": unsafe})
    assert response.headers["X-Request-ID"] != unsafe
    assert re.fullmatch(r"[0-9a-f-]{36}", response.headers["X-Request-ID"])


# --- idempotency ---------------------------------------------------------------------


def test_same_idempotency_key_and_body_replays_the_original(api: ApiClient) -> None:
    headers = {"Idempotency-Key": "order-1001"}
    first = api.post("/v1/events", json=VALID, headers=headers)
    second = api.post("/v1/events", json=VALID, headers=headers)

    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    for field in ("event_id", "created_at", "status", "source", "event_type"):
        assert second.json()[field] == first.json()[field]
    inbox = api.get("/v1/inbox").json()["events"]
    assert [e["event_id"] for e in inbox] == [first.json()["event_id"]]


def test_idempotency_key_in_metadata_works_like_the_header(api: ApiClient) -> None:
    body = {**VALID, "metadata": {"idempotency_key": "meta-key-1"}}
    first = api.post("/v1/events", json=body)
    second = api.post("/v1/events", json=VALID, headers={"Idempotency-Key": "meta-key-1"})
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["event_id"] == first.json()["event_id"]
    event = api.get(f"/v1/events/{first.json()['event_id']}").json()
    assert event["metadata"]["idempotency_key"] == "meta-key-1"


def test_an_omitted_priority_and_normal_are_the_same_request(api: ApiClient) -> None:
    headers = {"Idempotency-Key": "defaults-1"}
    first = api.post("/v1/events", json=VALID, headers=headers)
    explicit = {**VALID, "metadata": {"priority": "normal"}}
    second = api.post("/v1/events", json=explicit, headers=headers)
    assert first.status_code == 201
    assert second.status_code == 200, second.text
    assert second.json()["event_id"] == first.json()["event_id"]
    urgent = {**VALID, "metadata": {"priority": "high"}}
    assert_error(api.post("/v1/events", json=urgent, headers=headers), 409, "CONFLICT")


def test_same_idempotency_key_with_different_body_is_a_409(api: ApiClient) -> None:
    headers = {"Idempotency-Key": "order-2002"}
    assert api.post("/v1/events", json=VALID, headers=headers).status_code == 201
    changed = {**VALID, "payload": {"amount": 43}}
    assert_error(api.post("/v1/events", json=changed, headers=headers), 409, "CONFLICT")


def test_idempotency_keys_are_per_tenant(api: ApiClient, other_api: ApiClient) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    mine = api.post("/v1/events", json=VALID, headers=headers)
    theirs = other_api.post("/v1/events", json={**VALID, "source": "x"}, headers=headers)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["event_id"] != theirs.json()["event_id"]


def test_header_and_metadata_keys_must_agree(api: ApiClient) -> None:
    body = {**VALID, "metadata": {"idempotency_key": "a"}}
    response = api.post("/v1/events", json=body, headers={"Idempotency-Key": "b"})
    assert_error(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("key", ["", "with space", "k" * 256])
def test_invalid_idempotency_key_header_is_a_400(api: ApiClient, key: str) -> None:
    response = api.post("/v1/events", json=VALID, headers={"Idempotency-Key": key})
    assert_error(response, 400, "VALIDATION_ERROR")


def test_concurrent_duplicates_produce_exactly_one_event(api: ApiClient) -> None:
    # GIVEN eight clients racing with the same key and body
    headers = {"Idempotency-Key": "race-1"}

    def send(_: int) -> Any:
        return api.request("POST", "/v1/events", json=VALID, headers=headers)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(send, range(8)))

    # THEN one was created, the rest replayed it, and the inbox holds one event
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1, statuses
    assert statuses.count(200) == 7, statuses
    assert len({r.json()["event_id"] for r in responses}) == 1
    assert len(api.get("/v1/inbox").json()["events"]) == 1


def test_a_header_key_that_differs_from_the_body_key_is_a_400(api: ApiClient) -> None:
    body = {**VALID, "metadata": {"idempotency_key": "in-the-body"}}
    response = api.post("/v1/events", json=body, headers={"Idempotency-Key": "in-the-header"})
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert error["details"] == {
        "idempotency_key": ["The Idempotency-Key header and metadata.idempotency_key differ."]
    }

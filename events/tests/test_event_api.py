"""GET / ack / DELETE of one event, and tenant isolation, over real HTTP."""

from __future__ import annotations

import re
import uuid

import pytest

from devstack.testing import ApiClient, assert_error

pytestmark = pytest.mark.integration


def test_get_returns_the_full_event(api: ApiClient) -> None:
    created = api.create_event(payload={"order": 7}, metadata={"priority": "high"})

    response = api.get(f"/v1/events/{created['event_id']}")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "event_id",
        "created_at",
        "source",
        "event_type",
        "payload",
        "metadata",
        "status",
        "acknowledged_at",
        "delivery_count",
        "dead_lettered_at",
        "request_id",
    }
    assert body["event_id"] == created["event_id"]
    assert body["created_at"] == created["created_at"]
    assert body["payload"] == {"order": 7}
    assert body["metadata"]["priority"] == "high"
    assert body["status"] == "pending"
    assert body["acknowledged_at"] is None
    assert (body["delivery_count"], body["dead_lettered_at"]) == (0, None)


def test_ack_marks_the_event_acknowledged(api: ApiClient) -> None:
    created = api.create_event()

    response = api.post(f"/v1/events/{created['event_id']}/ack")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"event_id", "status", "acknowledged_at", "request_id"}
    assert body["status"] == "acknowledged"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", body["acknowledged_at"])
    fetched = api.get(f"/v1/events/{created['event_id']}").json()
    assert fetched["status"] == "acknowledged"
    assert fetched["acknowledged_at"] == body["acknowledged_at"]


def test_ack_is_idempotent(api: ApiClient) -> None:
    created = api.create_event()
    first = api.post(f"/v1/events/{created['event_id']}/ack")
    second = api.post(f"/v1/events/{created['event_id']}/ack")

    assert first.status_code == second.status_code == 200
    assert second.json()["acknowledged_at"] == first.json()["acknowledged_at"]


def test_delete_removes_the_event(api: ApiClient) -> None:
    created = api.create_event()

    response = api.delete(f"/v1/events/{created['event_id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["X-Request-ID"]
    assert_error(api.get(f"/v1/events/{created['event_id']}"), 404, "NOT_FOUND")
    assert_error(api.delete(f"/v1/events/{created['event_id']}"), 404, "NOT_FOUND")
    assert api.get("/v1/inbox").json()["events"] == []


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_unknown_id_is_a_404(api: ApiClient, method: str) -> None:
    assert_error(api.request(method, f"/v1/events/{uuid.uuid4()}"), 404, "NOT_FOUND")


def test_ack_of_unknown_id_is_a_404(api: ApiClient) -> None:
    assert_error(api.post(f"/v1/events/{uuid.uuid4()}/ack"), 404, "NOT_FOUND")


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", "x" * 300, "%00", "..%2F.."])
def test_malformed_id_is_a_404(api: ApiClient, bad_id: str) -> None:
    assert_error(api.get(f"/v1/events/{bad_id}"), 404, "NOT_FOUND")
    assert_error(api.post(f"/v1/events/{bad_id}/ack"), 404, "NOT_FOUND")
    assert_error(api.delete(f"/v1/events/{bad_id}"), 404, "NOT_FOUND")


def test_another_tenants_event_is_invisible(api: ApiClient, other_api: ApiClient) -> None:
    # GIVEN an event that belongs to another tenant
    theirs = other_api.create_event()
    path = f"/v1/events/{theirs['event_id']}"

    # WHEN this tenant tries to read, ack and delete it, THEN it is "not found"
    assert_error(api.get(path), 404, "NOT_FOUND")
    assert_error(api.post(path + "/ack"), 404, "NOT_FOUND")
    assert_error(api.delete(path), 404, "NOT_FOUND")
    assert api.get("/v1/inbox").json()["events"] == []

    # AND the owner still sees it untouched
    owned = other_api.get(path).json()
    assert owned["status"] == "pending"
    assert [e["event_id"] for e in other_api.get("/v1/inbox").json()["events"]] == [
        theirs["event_id"]
    ]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_wrong_method_on_an_event_is_a_405(api: ApiClient, method: str) -> None:
    created = api.create_event()
    assert_error(
        api.request(method, f"/v1/events/{created['event_id']}"), 405, "METHOD_NOT_ALLOWED"
    )


def test_ack_accepts_no_body_and_an_empty_json_body(api: ApiClient) -> None:
    first = api.create_event()
    second = api.create_event()
    assert api.post(f"/v1/events/{first['event_id']}/ack").status_code == 200
    assert api.post(f"/v1/events/{second['event_id']}/ack", json={}).status_code == 200

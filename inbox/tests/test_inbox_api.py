"""GET /v1/inbox over real HTTP: pagination, filters, cursors, acknowledgement."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from devstack.testing import ApiClient, Server, assert_error, make_client

pytestmark = pytest.mark.integration

SOURCES = ("billing", "shipping", "auth")
TYPES = ("created", "updated")


def walk(api: ApiClient, limit: int, **filters: str) -> tuple[list[dict[str, Any]], int]:
    """Every event the inbox returns, page by page; and how many pages that took."""
    events: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": limit, **filters}
        if cursor:
            params["cursor"] = cursor
        response = api.get("/v1/inbox", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        assert body["pagination"]["limit"] == limit
        cursor = body["pagination"]["next_cursor"]
        if cursor is not None:
            # with these few events the read budget is never spent, so no page is short
            # while matching events remain (test_inbox_budget.py shows the budgeted case)
            assert len(body["events"]) == limit
        events.extend(body["events"])
        if cursor is None:
            return events, pages


@pytest.fixture(scope="module")
def loaded(server: Server) -> tuple[ApiClient, list[dict[str, Any]]]:
    """One tenant with 250 events spread over 3 sources x 2 types, created in order."""
    api = make_client(server)
    specs = [(SOURCES[i % 3], TYPES[(i // 3) % 2], i) for i in range(250)]

    def create(spec: tuple[str, str, int]) -> dict[str, Any]:
        source, event_type, n = spec
        return api.create_event(source=source, event_type=event_type, payload={"n": n})

    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(pool.map(create, specs))
    for item, (source, event_type, n) in zip(created, specs, strict=True):
        item.update(source=source, event_type=event_type, n=n)
    return api, created


def expected_order(created: list[dict[str, Any]], **filters: str) -> list[str]:
    matching = [c for c in created if all(c[k] == v for k, v in filters.items())]
    return [c["event_id"] for c in sorted(matching, key=lambda c: (c["created_at"], c["event_id"]))]


def test_pagination_over_250_events_has_no_duplicates_and_no_gaps(
    loaded: tuple[ApiClient, list[dict[str, Any]]],
) -> None:
    api, created = loaded
    events, pages = walk(api, limit=40)
    assert [e["event_id"] for e in events] == expected_order(created)
    assert pages == 7  # 6 full pages of 40 and one of 10


def test_default_limit_is_50(loaded: tuple[ApiClient, list[dict[str, Any]]]) -> None:
    api, _ = loaded
    body = api.get("/v1/inbox").json()
    assert body["pagination"]["limit"] == 50
    assert len(body["events"]) == 50
    assert body["pagination"]["next_cursor"]


@pytest.mark.parametrize(
    "filters",
    [
        {"source": "billing"},
        {"source": "auth"},
        {"event_type": "updated"},
        {"source": "shipping", "event_type": "created"},
    ],
)
def test_filtered_pagination_is_complete_and_never_empty(
    loaded: tuple[ApiClient, list[dict[str, Any]]], filters: dict[str, str]
) -> None:
    api, created = loaded
    events, _ = walk(api, limit=7, **filters)
    assert [e["event_id"] for e in events] == expected_order(created, **filters)
    for event in events:
        assert all(event[k] == v for k, v in filters.items())


def test_filter_matching_nothing_is_an_empty_last_page(
    loaded: tuple[ApiClient, list[dict[str, Any]]],
) -> None:
    api, _ = loaded
    body = api.get("/v1/inbox", params={"source": "nobody"}).json()
    assert body["events"] == []
    assert body["pagination"]["next_cursor"] is None


def test_exact_multiple_of_limit_ends_with_a_null_cursor(api: ApiClient) -> None:
    for _ in range(4):
        api.create_event()
    first = api.get("/v1/inbox", params={"limit": 2}).json()
    second = api.get(
        "/v1/inbox", params={"limit": 2, "cursor": first["pagination"]["next_cursor"]}
    ).json()
    assert len(second["events"]) == 2
    assert second["pagination"]["next_cursor"] is None


def test_acknowledged_event_leaves_the_inbox(api: ApiClient) -> None:
    first, second, third = (api.create_event(payload={"n": n}) for n in range(3))

    api.post(f"/v1/events/{second['event_id']}/ack")

    ids = [e["event_id"] for e in api.get("/v1/inbox").json()["events"]]
    assert ids == [first["event_id"], third["event_id"]]


def test_inbox_events_have_the_full_shape(api: ApiClient) -> None:
    created = api.create_event(payload={"deep": {"x": [1, 2]}})
    (event,) = api.get("/v1/inbox").json()["events"]
    assert event["event_id"] == created["event_id"]
    assert event["payload"] == {"deep": {"x": [1, 2]}}
    assert event["status"] == "pending"
    assert event["acknowledged_at"] is None


def test_inbox_is_per_tenant(api: ApiClient, other_api: ApiClient) -> None:
    mine = api.create_event()
    other_api.create_event()
    assert [e["event_id"] for e in api.get("/v1/inbox").json()["events"]] == [mine["event_id"]]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", ""])
def test_bad_limit_is_a_400(api: ApiClient, limit: str) -> None:
    error = assert_error(api.get("/v1/inbox", params={"limit": limit}), 400, "VALIDATION_ERROR")
    assert "limit" in error["details"]


def test_limits_at_the_bounds_are_accepted(api: ApiClient) -> None:
    assert api.get("/v1/inbox", params={"limit": 1}).status_code == 200
    assert api.get("/v1/inbox", params={"limit": 100}).status_code == 200


def test_forged_or_truncated_cursor_is_a_400(api: ApiClient) -> None:
    for _ in range(3):
        api.create_event()
    cursor = api.get("/v1/inbox", params={"limit": 1}).json()["pagination"]["next_cursor"]
    payload, _, signature = cursor.partition(".")
    for bad in (cursor[:-3], payload + "." + signature[::-1], "garbage", cursor + "x"):
        response = api.get("/v1/inbox", params={"limit": 1, "cursor": bad})
        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert "cursor" in error["details"]


def test_another_tenants_cursor_is_a_400(api: ApiClient, other_api: ApiClient) -> None:
    for _ in range(2):
        other_api.create_event()
    cursor = other_api.get("/v1/inbox", params={"limit": 1}).json()["pagination"]["next_cursor"]
    assert_error(api.get("/v1/inbox", params={"cursor": cursor}), 400, "VALIDATION_ERROR")


def test_unknown_query_parameter_is_a_400(api: ApiClient) -> None:
    error = assert_error(api.get("/v1/inbox", params={"limt": 5}), 400, "VALIDATION_ERROR")
    assert "limt" in error["details"]


def test_blank_filter_is_a_400(api: ApiClient) -> None:
    assert_error(api.get("/v1/inbox", params={"source": " "}), 400, "VALIDATION_ERROR")

"""What an inbox page asks of DynamoDB: one Query for a page, never
more than the read budget however many other events a filter skips, and cursors that
resume where a spent budget stopped.

Counted on a server whose key cache is warm, so `dynamodb_calls` is the page alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.testing import (
    ApiClient,
    Server,
    running_server,
    server_env,
    store_pending_events,
    warm_client,
)

pytestmark = pytest.mark.integration

NOISE = 5_000


@pytest.fixture(scope="module")
def crowded(counting_server: Server) -> tuple[ApiClient, list[str]]:
    """A tenant with 5,000 pending "noise" events, then 3 "signal" events, then more noise."""
    api = warm_client(counting_server)
    store_pending_events(api.tenant_id, NOISE, source="noise", event_type="noise.made")
    signal = [
        api.create_event(source="signal", event_type="signal.sent", payload={"n": n})["event_id"]
        for n in range(3)
    ]
    store_pending_events(api.tenant_id, 10, source="noise", event_type="noise.made")
    return api, signal


def page(server: Server, api: ApiClient, **params: Any) -> tuple[dict[str, Any], int]:
    """The page, and the DynamoDB calls it cost."""
    response = api.get("/v1/inbox", params=params)
    assert response.status_code == 200, response.text
    return response.json(), server.line(response, "request_finished")["dynamodb_calls"]


def follow(
    server: Server, api: ApiClient, **params: Any
) -> tuple[list[str], list[tuple[int, int]]]:
    """Every page's events, following cursors to the end; (events, calls) of each page."""
    found: list[str] = []
    pages: list[tuple[int, int]] = []
    cursor: str | None = None
    while True:
        body, calls = page(server, api, **params, **({"cursor": cursor} if cursor else {}))
        found += [e["event_id"] for e in body["events"]]
        pages.append((len(body["events"]), calls))
        cursor = body["pagination"]["next_cursor"]
        if cursor is None:
            return found, pages


@pytest.mark.parametrize(
    "filters",
    [
        {"source": "signal"},
        {"event_type": "signal.sent"},
        {"source": "signal", "event_type": "signal.sent"},
    ],
)
def test_a_filter_over_5000_other_pending_events_stays_within_the_budget(
    counting_server: Server, crowded: tuple[ApiClient, list[str]], filters: dict[str, str]
) -> None:
    api, signal = crowded
    found, pages = follow(counting_server, api, limit=10, **filters)
    # every match, once, in order; no page past the budget (5 Queries)
    assert found == signal
    assert all(calls <= 5 for _, calls in pages)
    # the filter skips the other events 1,000 at a time (the budget's items), never more
    assert len(pages) >= NOISE // 1000


def test_an_unfiltered_page_is_one_query(
    counting_server: Server, crowded: tuple[ApiClient, list[str]]
) -> None:
    api, _ = crowded
    body, calls = page(counting_server, api, limit=100)
    assert len(body["events"]) == 100
    assert body["pagination"]["next_cursor"] is not None
    assert calls == 1


@pytest.fixture(scope="module")
def small_budget(tables: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = server_env(
        tables,
        WEB_CONCURRENCY="1",
        API_KEY_CACHE_SECONDS="3600",
        DYNAMODB_READ_BUDGET_ITEMS="40",
        DYNAMODB_READ_BUDGET_CALLS="2",
        METRICS_BACKEND="log",
        METRICS_FLUSH_INTERVAL_SECONDS="0.2",
        RATE_LIMIT_ENABLED="false",  # its leases (an UpdateItem a window) would be counted
    )
    with running_server(tmp_path_factory.mktemp("small-budget"), env) as server:
        yield server


def test_a_spent_budget_returns_what_it_found_and_a_cursor_that_resumes_there(
    small_budget: Server,
) -> None:
    # GIVEN 300 pending events of one source, three of which have a rare type
    api = warm_client(small_budget)
    store_pending_events(api.tenant_id, 100, source="app", event_type="common")
    rare = [api.create_event(source="app", event_type="rare")["event_id"]]
    store_pending_events(api.tenant_id, 100, source="app", event_type="common")
    rare += [api.create_event(source="app", event_type="rare")["event_id"] for _ in range(2)]
    store_pending_events(api.tenant_id, 100, source="app", event_type="common")

    # WHEN a consumer follows cursors over both filters
    found, pages = follow(small_budget, api, source="app", event_type="rare", limit=2)

    # THEN every request stayed within the budget (2 Queries), pages came back short or
    # empty when it was spent, and together they hold each rare event once, in order
    assert found == rare
    assert all(calls <= 2 for _, calls in pages)
    assert any(count == 0 for count, _ in pages)
    assert len(pages) >= 300 // 40
    # AND the cut-short pages are counted
    deadline = time.monotonic() + 30  # a hang detector, not a measurement
    while {"Operation": "inbox"} not in small_budget.published("ReadBudgetExhausted"):
        assert time.monotonic() < deadline, "no ReadBudgetExhausted metric was published"
        time.sleep(0.2)


def test_a_filtered_lease_follows_its_cursor_past_what_its_budget_reads(
    small_budget: Server,
) -> None:
    # GIVEN 200 pending events of one type, then two of a rare type
    api = warm_client(small_budget)
    store_pending_events(api.tenant_id, 200, source="app", event_type="common")
    rare = store_pending_events(api.tenant_id, 2, source="app", event_type="rare")

    # WHEN a consumer leases the rare type, passing each lease's next_cursor to the next
    found: list[str] = []
    calls: list[int] = []
    body: dict[str, Any] = {"event_type": "rare", "limit": 10}
    for _ in range(200 // 40 + 2):
        response = api.post("/v1/inbox/lease", json=body)
        assert response.status_code == 200, response.text
        found += [e["event_id"] for e in response.json()["events"]]
        calls.append(small_budget.line(response, "request_finished")["dynamodb_calls"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
        body["cursor"] = cursor

    # THEN each lease read within the budget (2 Queries) plus its writes, and following
    # the cursors reached both rare events
    assert found == rare
    assert len(calls) > 1
    assert all(count <= 2 + len(rare) for count in calls)
    # AND no common event was leased on the way
    common = api.post("/v1/inbox/lease", json={"event_type": "common", "limit": 100})
    assert {e["lease"]["delivery_count"] for e in common.json()["events"]} == {1}

"""What an inbox page asks of DynamoDB: O(limit) for filtered pages however many other
events are pending, and never more than the read budget.

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


def page(server: Server, api: ApiClient, **params: Any) -> tuple[dict[str, Any], int, str]:
    """The page, the DynamoDB calls it cost, and the index it was read from."""
    response = api.get("/v1/inbox", params=params)
    assert response.status_code == 200, response.text
    calls = server.line(response, "request_finished")["dynamodb_calls"]
    return response.json(), calls, server.line(response, "inbox_listed")["index"]


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"source": "signal"}, "inbox-source-index"),
        ({"event_type": "signal.sent"}, "inbox-event-type-index"),
        ({"source": "signal", "event_type": "signal.sent"}, "inbox-source-index"),
    ],
)
def test_a_filtered_page_over_5000_other_pending_events_is_one_query(
    counting_server: Server,
    crowded: tuple[ApiClient, list[str]],
    filters: dict[str, str],
    index: str,
) -> None:
    api, signal = crowded
    body, calls, used = page(counting_server, api, limit=10, **filters)
    assert [e["event_id"] for e in body["events"]] == signal
    assert body["pagination"]["next_cursor"] is None
    assert used == index
    assert calls == 1


def test_an_unfiltered_page_is_one_query(
    counting_server: Server, crowded: tuple[ApiClient, list[str]]
) -> None:
    api, _ = crowded
    body, calls, used = page(counting_server, api, limit=100)
    assert len(body["events"]) == 100
    assert body["pagination"]["next_cursor"] is not None
    assert (calls, used) == (1, "inbox-index")


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

    # WHEN a consumer follows cursors over both filters (index on source, filter on type)
    found: list[str] = []
    cursor: str | None = None
    pages = []
    while True:
        params: dict[str, Any] = {"source": "app", "event_type": "rare", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        body, calls, _ = page(small_budget, api, **params)
        found += [e["event_id"] for e in body["events"]]
        pages.append((len(body["events"]), calls))
        cursor = body["pagination"]["next_cursor"]
        if cursor is None:
            break

    # THEN every request stayed within the budget (2 calls), pages came back short or empty
    # when it was spent, and together they hold each rare event once, in order
    assert found == rare
    assert all(calls <= 2 for _, calls in pages)
    assert any(count == 0 for count, _ in pages)
    assert len(pages) >= 300 // 40
    # AND the cut-short pages are counted
    deadline = time.monotonic() + 30  # a hang detector, not a measurement
    while {"Operation": "inbox"} not in small_budget.published("ReadBudgetExhausted"):
        assert time.monotonic() < deadline, "no ReadBudgetExhausted metric was published"
        time.sleep(0.2)

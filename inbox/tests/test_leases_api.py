"""Consumer leases over HTTP, on DynamoDB Local: each event in one pair of hands at a
time, redelivered when a lease runs out, dead-lettered when poison, redriven on demand.

Leases run out on the server's own clock: a test that needs one to run out takes it for
1 s and waits until the event can be leased again (a condition, never a duration).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from devstack.testing import (
    ApiClient,
    Server,
    assert_error,
    running_server,
    server_env,
    store_pending_events,
    wait_for,
    warm_client,
)

pytestmark = pytest.mark.integration

MAX_DELIVERIES = 3


@pytest.fixture(scope="module")
def leasing(tables: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Two workers of four threads, so that concurrent leases really are concurrent."""
    env = server_env(
        tables,
        WEB_CONCURRENCY="2",
        RATE_LIMIT_ENABLED="false",
        LEASE_MAX_DELIVERIES=str(MAX_DELIVERIES),
        API_KEY_CACHE_SECONDS="3600",
        METRICS_BACKEND="log",
        METRICS_FLUSH_INTERVAL_SECONDS="0.2",
    )
    with running_server(tmp_path_factory.mktemp("leasing"), env) as server:
        yield server


@pytest.fixture
def api(leasing: Server) -> ApiClient:
    return warm_client(leasing)


def lease(api: ApiClient, **body: Any) -> list[dict[str, Any]]:
    response = api.post("/v1/inbox/lease", json=body)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def lease_one(api: ApiClient, **body: Any) -> dict[str, Any]:
    (event,) = lease(api, limit=1, **body)
    return event


def lease_again_when_it_expires(api: ApiClient, event_id: str, **body: Any) -> dict[str, Any]:
    """Wait until the event's lease runs out and lease it again."""
    got: list[dict[str, Any]] = []

    def leased_again() -> bool:
        got[:] = lease(api, limit=1, **body)
        return bool(got)

    wait_for(leased_again, what="the lease to run out")
    assert got[0]["event_id"] == event_id
    return got[0]


def ack(api: ApiClient, event: dict[str, Any]) -> requests.Response:
    return api.post(
        f"/v1/events/{event['event_id']}/ack", json={"lease_token": event["lease"]["token"]}
    )


def test_a_lease_returns_the_oldest_events_each_with_its_lease(api: ApiClient) -> None:
    ids = store_pending_events(api.tenant_id, 5)

    leased = lease(api, limit=3, visibility_timeout=60)

    assert [e["event_id"] for e in leased] == ids[:3]
    for event in leased:
        assert event["status"] == "pending"
        assert event["payload"] == {"n": ids.index(event["event_id"])}
        assert event["delivery_count"] == event["lease"]["delivery_count"] == 1
        expires = datetime.fromisoformat(event["lease"]["expires_at"])
        created = datetime.fromisoformat(event["created_at"])
        assert expires > created
    # a second consumer gets the rest, never the leased ones
    assert [e["event_id"] for e in lease(api, limit=10)] == ids[3:]
    assert lease(api, limit=10) == []


def test_eight_consumers_leasing_at_once_share_200_events_without_overlap(
    api: ApiClient,
) -> None:
    ids = set(store_pending_events(api.tenant_id, 200))

    def consume(_: int) -> list[str]:
        mine: list[str] = []
        empty_in_a_row = 0
        while empty_in_a_row < 3:  # the queue may look empty while others hold it
            got = lease(api, limit=10, visibility_timeout=300)
            mine += [e["event_id"] for e in got]
            empty_in_a_row = 0 if got else empty_in_a_row + 1
        return mine

    with ThreadPoolExecutor(max_workers=8) as pool:
        shares = list(pool.map(consume, range(8)))

    every = [event_id for share in shares for event_id in share]
    assert len(every) == len(set(every)), "an event was leased by two consumers"
    assert set(every) == ids
    assert sum(bool(share) for share in shares) > 1


def test_an_expired_lease_is_redelivered_and_its_old_token_is_refused(
    leasing: Server, api: ApiClient
) -> None:
    (event_id,) = store_pending_events(api.tenant_id, 1)
    first = lease_one(api, visibility_timeout=1)

    second = lease_again_when_it_expires(api, event_id, visibility_timeout=300)

    assert second["lease"]["delivery_count"] == second["delivery_count"] == 2
    assert second["lease"]["token"] != first["lease"]["token"]
    # the first consumer's ack is refused, and the event stays with the second
    error = assert_error(ack(api, first), 409, "LEASE_LOST")
    assert error["details"] == {"event_id": event_id, "reason": "leased_again"}
    assert api.get(f"/v1/events/{event_id}").json()["status"] == "pending"
    assert lease(api, limit=10) == []
    acked = ack(api, second)
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acknowledged"
    # AND the redelivery was counted, and the backlog's age published
    for metric in ("LeaseExpiries", "OldestPendingAge"):
        wait_for(lambda m=metric: leasing.published(m), what=f"{metric} published")


def test_acking_twice_with_the_same_token_answers_the_first_ack(api: ApiClient) -> None:
    store_pending_events(api.tenant_id, 1)
    event = lease_one(api)

    first, again = ack(api, event), ack(api, event)

    assert first.status_code == again.status_code == 200
    assert again.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    assert lease(api, limit=10) == []


def test_an_ack_after_the_lease_ran_out_is_refused(api: ApiClient) -> None:
    store_pending_events(api.tenant_id, 1)
    event = lease_one(api, visibility_timeout=1)
    expires = datetime.fromisoformat(event["lease"]["expires_at"])
    wait_for(lambda: datetime.now(UTC) > expires + timedelta(milliseconds=50), what="expiry")

    error = assert_error(ack(api, event), 409, "LEASE_LOST")

    assert error["details"]["reason"] == "expired"
    assert [e["event_id"] for e in lease(api, limit=10)] == [event["event_id"]]


def test_an_ack_without_a_token_takes_the_event_from_its_holder(api: ApiClient) -> None:
    store_pending_events(api.tenant_id, 1)
    event = lease_one(api)

    plain = api.post(f"/v1/events/{event['event_id']}/ack")

    assert plain.status_code == 200, plain.text
    assert ack(api, event).status_code == 200  # the holder's ack: the same, acknowledged
    assert api.get(f"/v1/events/{event['event_id']}").json()["status"] == "acknowledged"


def test_leased_events_are_not_in_the_inbox_until_their_lease_runs_out(api: ApiClient) -> None:
    ids = store_pending_events(api.tenant_id, 3)
    held = lease_one(api, visibility_timeout=1)

    listed = api.get("/v1/inbox").json()["events"]

    assert [e["event_id"] for e in listed] == ids[1:]
    wait_for(
        lambda: held["event_id"] in [e["event_id"] for e in api.get("/v1/inbox").json()["events"]],
        what="the leased event to come back to the inbox",
    )


def test_extend_holds_the_lease_past_its_first_expiry(api: ApiClient) -> None:
    store_pending_events(api.tenant_id, 1)
    event = lease_one(api, visibility_timeout=2)
    token = event["lease"]["token"]

    extended = api.post(
        "/v1/inbox/extend", json={"lease_tokens": [token], "visibility_timeout": 600}
    )

    assert extended.status_code == 200, extended.text
    (result,) = extended.json()["results"]
    assert result["index"] == 0
    assert result["event_id"] == event["event_id"]
    assert result["lease"]["token"] == token
    assert result["lease"]["delivery_count"] == 1
    first_expiry = datetime.fromisoformat(event["lease"]["expires_at"])
    assert datetime.fromisoformat(result["lease"]["expires_at"]) > first_expiry
    wait_for(lambda: datetime.now(UTC) > first_expiry + timedelta(milliseconds=50), what="expiry")
    assert lease(api, limit=10) == []  # still held
    assert ack(api, event).status_code == 200


def test_a_lease_cannot_be_extended_past_12_hours(api: ApiClient) -> None:
    store_pending_events(api.tenant_id, 1)
    token = lease_one(api, visibility_timeout=43200)["lease"]["token"]

    extended = api.post(
        "/v1/inbox/extend", json={"lease_tokens": [token], "visibility_timeout": 43200}
    )

    (result,) = extended.json()["results"]
    assert result["error"]["code"] == "VALIDATION_ERROR"
    assert "43200" in result["error"]["message"]


def test_release_gives_the_event_back_at_once_or_after_a_delay(api: ApiClient) -> None:
    now_id, _ = store_pending_events(api.tenant_id, 2)
    now, later = lease(api, limit=2)

    released = api.post(
        "/v1/inbox/release", json={"lease_tokens": [now["lease"]["token"]], "delay": 0}
    )
    delayed = api.post(
        "/v1/inbox/release", json={"lease_tokens": [later["lease"]["token"]], "delay": 3600}
    )

    assert released.json()["results"] == [{"index": 0, "event_id": now_id, "status": "pending"}]
    assert delayed.json()["results"][0]["status"] == "pending"
    again = lease(api, limit=10)
    assert [e["event_id"] for e in again] == [now_id]  # the delayed one is not visible yet
    assert again[0]["lease"]["delivery_count"] == 2
    # a released lease's token no longer acts
    error = assert_error(ack(api, later), 409, "LEASE_LOST")
    assert error["details"]["reason"] == "released"


def test_the_last_allowed_delivery_dead_letters_on_expiry_and_redrive_returns_it(
    leasing: Server, api: ApiClient
) -> None:
    (event_id,) = store_pending_events(api.tenant_id, 1, source="poison")
    # GIVEN an event released MAX_DELIVERIES - 1 times, then leased once more and dropped
    for _ in range(MAX_DELIVERIES - 1):
        token = lease_one(api)["lease"]["token"]
        api.post("/v1/inbox/release", json={"lease_tokens": [token]})
    last = lease_one(api, visibility_timeout=1)
    assert last["lease"]["delivery_count"] == MAX_DELIVERIES
    expires = datetime.fromisoformat(last["lease"]["expires_at"])
    wait_for(lambda: datetime.now(UTC) > expires + timedelta(milliseconds=50), what="expiry")

    # WHEN a consumer leases again THEN it gets nothing: the event went to the dead letters
    assert lease(api, limit=10) == []
    letters = api.get("/v1/dead-letters").json()["events"]
    assert [e["event_id"] for e in letters] == [event_id]
    assert letters[0]["status"] == "dead_lettered"
    assert letters[0]["delivery_count"] == MAX_DELIVERIES
    assert letters[0]["dead_lettered_at"] is not None
    assert api.get(f"/v1/events/{event_id}").json()["status"] == "dead_lettered"
    assert api.get("/v1/inbox").json()["events"] == []
    assert_error(ack(api, last), 409, "LEASE_LOST")

    # WHEN it is redriven THEN it is pending again, its count reset, and leasable
    redriven = api.post("/v1/dead-letters/redrive", json={"event_ids": [event_id]})
    assert redriven.status_code == 200, redriven.text
    assert redriven.json() == {
        "results": [{"event_id": event_id, "status": "pending"}],
        "more": False,
        "request_id": redriven.headers["X-Request-ID"],
    }
    assert api.get("/v1/dead-letters").json()["events"] == []
    again = lease_one(api)
    assert (again["event_id"], again["lease"]["delivery_count"]) == (event_id, 1)
    # AND each step was counted
    for metric in ("DeadLetters", "Redrives", "LeaseReleases", "LeasesGranted"):
        wait_for(lambda m=metric: leasing.published(m), what=f"{metric} published")


def test_a_release_of_the_last_allowed_delivery_dead_letters_at_once(api: ApiClient) -> None:
    store_pending_events(api.tenant_id, 1)
    for delivery in range(1, MAX_DELIVERIES + 1):
        token = lease_one(api)["lease"]["token"]
        released = api.post("/v1/inbox/release", json={"lease_tokens": [token]})
        expected = "dead_lettered" if delivery == MAX_DELIVERIES else "pending"
        assert released.json()["results"][0]["status"] == expected
    assert lease(api, limit=10) == []
    assert len(api.get("/v1/dead-letters").json()["events"]) == 1


def test_redrive_by_time_range_and_filter(api: ApiClient) -> None:
    poison = store_pending_events(api.tenant_id, 3, source="poison")
    other = store_pending_events(api.tenant_id, 1, source="other")
    for _ in range(MAX_DELIVERIES):
        tokens = [e["lease"]["token"] for e in lease(api, limit=10)]
        api.post("/v1/inbox/release", json={"lease_tokens": tokens})
    assert len(api.get("/v1/dead-letters").json()["events"]) == 4
    listed = api.get("/v1/dead-letters", params={"source": "poison"}).json()["events"]
    assert [e["event_id"] for e in listed] == poison

    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    redriven = api.post(
        "/v1/dead-letters/redrive", json={"since": since, "until": until, "source": "poison"}
    ).json()

    assert [r["event_id"] for r in redriven["results"]] == poison
    assert redriven["more"] is False
    assert [e["event_id"] for e in api.get("/v1/dead-letters").json()["events"]] == other
    assert [e["event_id"] for e in lease(api, limit=10)] == poison


def test_a_lease_honours_its_filters(api: ApiClient) -> None:
    store_pending_events(api.tenant_id, 3, source="a", event_type="x")
    wanted = store_pending_events(api.tenant_id, 2, source="b", event_type="y")
    store_pending_events(api.tenant_id, 2, source="b", event_type="z")

    by_both = lease(api, limit=10, source="b", event_type="y")

    assert [e["event_id"] for e in by_both] == wanted
    assert {e["event_type"] for e in lease(api, limit=10, source="b")} == {"z"}
    assert {e["source"] for e in lease(api, limit=10, event_type="x")} == {"a"}


def test_another_tenants_token_and_a_forged_one_are_not_found(
    leasing: Server, api: ApiClient
) -> None:
    other = warm_client(leasing)
    store_pending_events(api.tenant_id, 1)
    event = lease_one(api)
    token = event["lease"]["token"]
    payload, _, signature = token.rpartition(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature

    theirs = other.post(f"/v1/events/{event['event_id']}/ack", json={"lease_token": token})
    made_up = api.post(f"/v1/events/{event['event_id']}/ack", json={"lease_token": forged})
    batch = other.post("/v1/inbox/ack", json={"lease_tokens": [token, forged]})

    assert_error(theirs, 404, "NOT_FOUND")
    assert_error(made_up, 404, "NOT_FOUND")
    assert [r["error"]["code"] for r in batch.json()["results"]] == ["NOT_FOUND", "NOT_FOUND"]
    assert ack(api, event).status_code == 200  # the holder still holds it


def test_acks_in_bulk_report_each_token(api: ApiClient) -> None:
    store_pending_events(api.tenant_id, 2)
    first, second = lease(api, limit=2)
    ack(api, second)
    ack(api, second)  # acked already: the bulk ack of the same token answers the same

    response = api.post(
        "/v1/inbox/ack",
        json={"lease_tokens": [first["lease"]["token"], second["lease"]["token"], "x"]},
    )

    assert_error(response, 400, "VALIDATION_ERROR")  # "x" is not a token: the body is wrong
    response = api.post(
        "/v1/inbox/ack", json={"lease_tokens": [first["lease"]["token"], second["lease"]["token"]]}
    )
    results = response.json()["results"]
    assert [(r["index"], r["event_id"], r["status"]) for r in results] == [
        (0, first["event_id"], "acknowledged"),
        (1, second["event_id"], "acknowledged"),
    ]


def test_a_token_for_another_event_is_a_400(api: ApiClient) -> None:
    store_pending_events(api.tenant_id, 2)
    first, second = lease(api, limit=2)

    response = api.post(
        f"/v1/events/{first['event_id']}/ack", json={"lease_token": second["lease"]["token"]}
    )

    assert_error(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "body",
    [
        {"limit": 0},
        {"limit": 101},
        {"visibility_timeout": 0},
        {"visibility_timeout": 43201},
        {"color": "red"},
        {"source": " "},
    ],
)
def test_a_bad_lease_request_is_a_400(api: ApiClient, body: dict[str, Any]) -> None:
    assert_error(api.post("/v1/inbox/lease", json=body), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"event_ids": []},
        {"event_ids": ["not-an-id"]},
        {"since": "2026-01-01T00:00:00Z"},
        {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"event_ids": ["0b7c3f0e-8a3e-4c1f-9d2a-3b4c5d6e7f80"], "since": "2026-01-01T00:00:00Z"},
    ],
)
def test_a_bad_redrive_request_is_a_400(api: ApiClient, body: dict[str, Any]) -> None:
    assert_error(api.post("/v1/dead-letters/redrive", json=body), 400, "VALIDATION_ERROR")


def test_redriving_what_is_not_a_dead_letter_says_so_per_event(api: ApiClient) -> None:
    pending = api.create_event()["event_id"]
    missing = "0b7c3f0e-8a3e-4c1f-9d2a-3b4c5d6e7f80"

    results = api.post("/v1/dead-letters/redrive", json={"event_ids": [pending, missing]}).json()[
        "results"
    ]

    assert [(r["event_id"], r["error"]["code"]) for r in results] == [
        (pending, "CONFLICT"),
        (missing, "NOT_FOUND"),
    ]


def test_lease_log_lines_carry_the_delivery_count(leasing: Server, api: ApiClient) -> None:
    store_pending_events(api.tenant_id, 1)
    response = api.post("/v1/inbox/lease", json={"limit": 1})
    event = response.json()["events"][0]

    acked = ack(api, event)

    assert leasing.line(response, "events_leased")["max_delivery_count"] == 1
    assert leasing.line(acked, "event_acknowledged")["delivery_count"] == 1


def test_a_lease_makes_at_most_limit_plus_spare_writes(leasing: Server, api: ApiClient) -> None:
    # GIVEN 30 events each delivered MAX_DELIVERIES times, the last leases run out
    store_pending_events(api.tenant_id, 30)
    for _ in range(MAX_DELIVERIES):
        held = lease(api, limit=100, visibility_timeout=1)
        assert len(held) == 30
        expires = max(datetime.fromisoformat(e["lease"]["expires_at"]) for e in held)
        wait_for(
            lambda t=expires: datetime.now(UTC) > t + timedelta(milliseconds=50), what="expiry"
        )

    # WHEN a consumer leases one event: every candidate is to be dead-lettered on the way
    response = api.post("/v1/inbox/lease", json={"limit": 1})

    # THEN it moved LEASE_SPARE_WRITES + 1 of them (1 + 10), no more, and leased none
    assert response.json()["events"] == []
    line = leasing.line(response, "events_leased")
    assert (line["leased"], line["dead_lettered"]) == (0, 1 + 10)
    assert leasing.line(response, "request_finished")["dynamodb_calls"] == 1 + 1 + 10
    # AND the rest are dead-lettered by the next leases, within the same bound each
    assert lease(api, limit=100) == []
    assert len(api.get("/v1/dead-letters", params={"limit": 100}).json()["events"]) == 30


@pytest.mark.parametrize("body", ["false", "[]", "null", "0", '"token"'])
def test_an_ack_body_that_is_not_an_object_is_a_400(api: ApiClient, body: str) -> None:
    event_id = api.create_event()["event_id"]

    response = api.post(
        f"/v1/events/{event_id}/ack", data=body, headers={"Content-Type": "application/json"}
    )

    assert_error(response, 400, "VALIDATION_ERROR")
    assert api.get(f"/v1/events/{event_id}").json()["status"] == "pending"  # not acked

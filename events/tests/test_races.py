"""Consumers racing each other over real HTTP (two gunicorn workers, separate
connections): acks, deletes, idempotent writes and a TTL expiry, all at once. Each race
ends in one consistent state whatever the interleaving."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from django.conf import settings

from devstack.faultproxy import FaultProxy, Mode
from devstack.testing import (
    ApiClient,
    Server,
    make_client,
    server_behind_proxy,
    store_pending_events,
    wait_for,
)
from events.models import Event

pytestmark = pytest.mark.integration


def call(client: ApiClient, method: str, path: str, **kwargs: Any) -> requests.Response:
    """One request on its own connection, so the two workers both take part."""
    headers = {"X-API-Key": client.api_key or "", **kwargs.pop("headers", {})}
    return requests.request(method, client.base_url + path, headers=headers, timeout=30, **kwargs)


def stored_items(tenant_id: str) -> dict[str, dict[str, Any]]:
    """The tenant's items as DynamoDB holds them now (strongly consistent), by event id."""
    return {
        item.event_id: item.attribute_values
        for item in Event.query(tenant_id, consistent_read=True)
    }


def inbox_ids(client: ApiClient) -> set[str]:
    return {event["event_id"] for event in client.get("/v1/inbox?limit=100").json()["events"]}


def test_acks_and_deletes_of_the_same_events_at_once(server: Server) -> None:
    # GIVEN 10 pending events, and for each 4 acks and 4 deletes in a random order
    client = make_client(server)
    ids = [client.create_event(payload={"n": n})["event_id"] for n in range(10)]
    calls = [(verb, event_id) for event_id in ids for verb in ("ack",) * 4 + ("delete",) * 4]
    random.shuffle(calls)

    def send(step: tuple[str, str]) -> tuple[str, str, int]:
        verb, event_id = step
        if verb == "ack":
            response = call(client, "POST", f"/v1/events/{event_id}/ack")
        else:
            response = call(client, "DELETE", f"/v1/events/{event_id}")
        return verb, event_id, response.status_code

    # WHEN they all run at once
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(send, calls))

    # THEN each answer is a success or "already gone", never an error
    for verb, _, status in results:
        assert status in ({200, 404} if verb == "ack" else {204, 404}), (verb, status)
    # exactly one delete of each event succeeded: a delete of an acked event works too
    for event_id in ids:
        deletes = [s for v, e, s in results if v == "delete" and e == event_id]
        assert deletes.count(204) == 1, (event_id, deletes)
    # AND every event is gone for good: no ack revived a deleted one (each is a tombstone)
    items = stored_items(client.tenant_id)
    assert set(items) == set(ids)
    assert {item["status"] for item in items.values()} == {"deleted"}
    assert all("payload" not in item for item in items.values())
    for event_id in ids:
        assert client.get(f"/v1/events/{event_id}").status_code == 404
    assert inbox_ids(client) == set()


@pytest.fixture
def late_writer(tables: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second server whose DynamoDB UpdateItems a loopback proxy holds until the test
    releases them (reads pass at once), to lose a race on purpose."""
    with server_behind_proxy(
        tables,
        tmp_path_factory.mktemp("late-writer"),
        Mode.HOLD_UPDATES,
        # Rate limiting off: its lease is an UpdateItem too, and would be held the same
        # way. A minute for each DynamoDB call: however long the test takes to release a
        # write, it is still waited for (not answered 503 when the machine is busy).
        RATE_LIMIT_ENABLED="false",
        DYNAMODB_DEADLINE_SECONDS="60",
        DYNAMODB_READ_TIMEOUT_SECONDS="60",
        # one worker with a thread for every request a test holds, and more
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="16",
    ) as (late, proxy):
        late.proxy = proxy  # type: ignore[attr-defined]
        yield late


def test_an_ack_that_loses_the_race_answers_the_winners_acknowledgement(
    server: Server, late_writer: Server
) -> None:
    # GIVEN a pending event, and an ack on the late server that has read it as pending
    # and whose conditional update is being held
    client = make_client(server)
    event_id = client.create_event()["event_id"]
    late = ApiClient(base_url=late_writer.url, api_key=client.api_key, tenant_id=client.tenant_id)
    proxy: FaultProxy = late_writer.proxy  # type: ignore[attr-defined]
    with ThreadPoolExecutor(max_workers=1) as pool:
        losing = pool.submit(call, late, "POST", f"/v1/events/{event_id}/ack")
        wait_for(lambda: proxy.held == 1 or losing.done(), what="the losing ack held")
        # WHEN another ack lands first, and only then the held one
        winning = call(client, "POST", f"/v1/events/{event_id}/ack")
        proxy.release()
        lost = losing.result()
    # THEN the loser's update fails its condition, and it answers what the winner stored
    assert winning.status_code == 200, winning.text
    assert lost.status_code == 200, lost.text
    assert lost.json()["acknowledged_at"] == winning.json()["acknowledged_at"]
    assert stored_items(client.tenant_id)[event_id]["status"] == "acknowledged"


def test_an_acknowledged_event_never_comes_back_to_the_inbox(server: Server) -> None:
    # GIVEN 30 pending events, consumers acking them while others page the inbox
    client = make_client(server)
    ids = set(store_pending_events(client.tenant_id, 30))
    acked: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()
    seen_after_ack: list[str] = []

    def ack(event_id: str) -> None:
        response = call(client, "POST", f"/v1/events/{event_id}/ack")
        assert response.status_code == 200
        with lock:
            acked.add(event_id)

    def poll() -> None:
        while not stop.is_set():
            with lock:
                done_before = set(acked)
            page = call(client, "GET", "/v1/inbox?limit=100").json()["events"]
            seen_after_ack.extend(e["event_id"] for e in page if e["event_id"] in done_before)

    # WHEN every event is acked twice over while two pollers read the inbox
    pollers = [threading.Thread(target=poll) for _ in range(2)]
    for poller in pollers:
        poller.start()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(ack, [*ids, *ids]))
    stop.set()
    for poller in pollers:
        poller.join()

    # THEN no page read after an ack was answered showed that event, and none is pending
    assert seen_after_ack == []
    assert inbox_ids(client) == set()
    assert {item["status"] for item in stored_items(client.tenant_id).values()} == {"acknowledged"}


def test_one_idempotency_key_raced_by_singles_and_batches_is_one_event(server: Server) -> None:
    # GIVEN 12 producers sending one event with one key, half alone and half in batches
    client = make_client(server)
    event = {"source": "race", "event_type": "once", "payload": {"order": 42}}
    keyed = {**event, "metadata": {"idempotency_key": "order-42"}}

    def send(n: int) -> str:
        if n % 2:
            response = call(client, "POST", "/v1/events", json=keyed)
            assert response.status_code in (200, 201), response.text
            return str(response.json()["event_id"])
        response = call(client, "POST", "/v1/events/batch", json={"events": [keyed]})
        assert response.status_code == 200, response.text
        (result,) = response.json()["results"]
        assert "error" not in result, result
        return str(result["event_id"])

    with ThreadPoolExecutor(max_workers=12) as pool:
        event_ids = set(pool.map(send, range(12)))

    # THEN all got the same event, and one is stored
    assert len(event_ids) == 1
    assert list(stored_items(client.tenant_id)) == list(event_ids)


def test_acks_racing_a_ttl_expiry(server: Server, late_writer: Server) -> None:
    # GIVEN 10 pending events, 3 of them acked before they expire, and one event that has
    # expired but that TTL has not swept yet
    client = make_client(server)
    ids = store_pending_events(client.tenant_id, 10)
    retention = timedelta(days=settings.EVENT_RETENTION_DAYS)
    (expired,) = store_pending_events(
        client.tenant_id, 1, created=datetime.now(UTC) - retention - timedelta(seconds=1)
    )
    before = [call(client, "POST", f"/v1/events/{event_id}/ack") for event_id in ids[:3]]
    assert [answer.status_code for answer in before] == [200] * 3

    # WHEN 10 acks have found their events and their writes are held, DynamoDB's TTL
    # (played here: DynamoDB Local never expires anything) deletes every event, and only
    # then do the held writes arrive
    late = ApiClient(base_url=late_writer.url, api_key=client.api_key, tenant_id=client.tenant_id)
    proxy: FaultProxy = late_writer.proxy  # type: ignore[attr-defined]
    with ThreadPoolExecutor(max_workers=10) as pool:
        held = [pool.submit(call, late, "POST", f"/v1/events/{event_id}/ack") for event_id in ids]
        wait_for(
            lambda: (
                (proxy.held == 7 and all(answer.done() for answer in held[:3]))
                or any(answer.done() for answer in held[3:])
            ),  # (a failure: let it show below)
            what="7 acks held, 3 answered",
        )
        for item in Event.query(client.tenant_id, consistent_read=True):
            item.delete()
        proxy.release()
        answers = [answer.result() for answer in held]

    # THEN the acks of acknowledged events still answer their acknowledgement, the held
    # writes found nothing to update and recreated nothing (404), an expired event is
    # not found either, and no expired event is readable or in the inbox
    assert [answer.status_code for answer in answers] == [200] * 3 + [404] * 7
    assert call(client, "POST", f"/v1/events/{expired}/ack").status_code == 404
    assert stored_items(client.tenant_id) == {}
    for event_id in [*ids, expired]:
        assert client.get(f"/v1/events/{event_id}").status_code == 404
    assert inbox_ids(client) == set()

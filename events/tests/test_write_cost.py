"""What each write costs in DynamoDB write units, table and indexes apart, measured over
HTTP: the server asks DynamoDB for every call's consumed capacity (devstack.capacity),
and DynamoDB Local reports it as DynamoDB bills it. docs/PERFORMANCE.md ("Write cost")
is this table; a change to the indexes or the writes that costs more fails here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack.testing import ApiClient, Server, running_server, server_env, warm_client

pytestmark = pytest.mark.integration

# A payload that keeps the whole item under 1 KB: one write unit per copy of it.
PAYLOAD = {"text": "x" * 500}
EVENT = {"source": "billing", "event_type": "invoice.paid", "payload": PAYLOAD}


@pytest.fixture(scope="module")
def measured(
    tables: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Path]]:
    directory = tmp_path_factory.mktemp("write-cost")
    record = directory / "capacity.jsonl"
    env = server_env(
        tables,
        DEVSTACK_CAPACITY_RECORD=str(record),
        WEB_CONCURRENCY="1",
        RATE_LIMIT_ENABLED="false",  # its counter's writes are not the request's own
        API_KEY_CACHE_SECONDS="3600",
    )
    with running_server(directory, env) as server:
        yield server, record


def write_units(record: Path, response: requests.Response) -> dict[str, float]:
    """The write units the request consumed: "table" and each index by name."""
    request_id = response.headers["X-Request-ID"]
    total: dict[str, float] = {}
    for line in record.read_text().splitlines():
        call = json.loads(line)
        if call["request_id"] != request_id or call["operation"] in {"GetItem", "Query"}:
            continue
        total["table"] = total.get("table", 0.0) + call["capacity"]["table"]
        for index, units in call["capacity"]["indexes"].items():
            total[index] = total.get(index, 0.0) + units
    return total


def test_what_each_write_costs(measured: tuple[Server, Path]) -> None:
    server, record = measured
    api: ApiClient = warm_client(server)

    put = api.post("/v1/events", json=EVENT)
    keyed = api.post("/v1/events", json=EVENT, headers={"Idempotency-Key": "write-cost-1"})
    batch = api.post("/v1/events/batch", json={"events": [EVENT]})
    plain_ack = api.post(f"/v1/events/{batch.json()['results'][0]['event_id']}/ack")
    lease = api.post("/v1/inbox/lease", json={"limit": 1})
    token = lease.json()["events"][0]["lease"]["token"]
    extend = api.post("/v1/inbox/extend", json={"lease_tokens": [token]})
    ack = api.post(f"/v1/events/{put.json()['event_id']}/ack", json={"lease_token": token})
    delete_pending = api.delete(f"/v1/events/{keyed.json()['event_id']}")
    delete_acked = api.delete(f"/v1/events/{put.json()['event_id']}")

    # a put writes the item, its key in the id index and its entry in the queue
    assert write_units(record, put) == {"table": 1.0, "event-id-index": 1.0, "queue-index": 1.0}
    # with a key: a transaction (twice the units) of the event and the key's record
    assert write_units(record, keyed) == {
        "table": 4.0,
        "event-id-index": 2.0,
        "queue-index": 2.0,
    }
    # a batch: one transaction, twice a put's units for each event (measured for one
    # event: DynamoDB Local reports a many-item transaction as if it held one, so a
    # batch of n costs n times this by DynamoDB's rules, docs/PERFORMANCE.md)
    assert write_units(record, batch) == {"table": 2.0, "event-id-index": 2.0, "queue-index": 2.0}
    # a lease moves the event's key in the queue (a delete and a put); the id index, which
    # projects keys only, is untouched by it and by everything after the put
    assert write_units(record, lease) == {"table": 1.0, "queue-index": 2.0}
    assert write_units(record, extend) == {"table": 1.0, "queue-index": 2.0}
    # an ack, with a lease or without, takes the event out of the queue
    assert write_units(record, ack) == {"table": 1.0, "queue-index": 1.0}
    assert write_units(record, plain_ack) == {"table": 1.0, "queue-index": 1.0}
    # a delete leaves a tombstone: out of the queue too if it was pending
    assert write_units(record, delete_pending) == {"table": 1.0, "queue-index": 1.0}
    assert write_units(record, delete_acked) == {"table": 1.0}


def test_put_lease_ack_costs_eight_units_where_put_ack_cost_ten(
    measured: tuple[Server, Path],
) -> None:
    """The issue's budget: a put, a lease and an ack of a 1 KB event together cost no more
    than a put and an ack did before leases (10 units: four ALL-projection indexes)."""
    server, record = measured
    api = warm_client(server)
    put = api.post("/v1/events", json=EVENT)
    lease = api.post("/v1/inbox/lease", json={"limit": 1})
    (leased,) = lease.json()["events"]
    ack = api.post(
        f"/v1/events/{leased['event_id']}/ack", json={"lease_token": leased["lease"]["token"]}
    )

    total = sum(sum(write_units(record, response).values()) for response in (put, lease, ack))

    assert leased["event_id"] == put.json()["event_id"]
    assert total == 8.0


def test_what_the_dead_letter_path_costs(measured: tuple[Server, Path]) -> None:
    server, record = measured
    api = warm_client(server)
    event_id = api.post("/v1/events", json=EVENT).json()["event_id"]
    release = None
    for _ in range(5):  # LEASE_MAX_DELIVERIES: the fifth release dead-letters
        token = api.post("/v1/inbox/lease", json={"limit": 1}).json()["events"][0]["lease"]["token"]
        release = api.post("/v1/inbox/release", json={"lease_tokens": [token]})
    assert release is not None
    assert release.json()["results"][0]["status"] == "dead_lettered"
    redrive = api.post("/v1/dead-letters/redrive", json={"event_ids": [event_id]})

    # the last release (its token says it is the last delivery) moves the event to the
    # dead letters' partition of the queue: one write, as a redrive moves it back
    assert write_units(record, release) == {"table": 1.0, "queue-index": 2.0}
    assert write_units(record, redrive) == {"table": 1.0, "queue-index": 2.0}


def test_reads_ask_for_their_capacity_too(measured: tuple[Server, Path]) -> None:
    server, record = measured
    api = warm_client(server)
    event_id = api.create_event(payload=PAYLOAD)["event_id"]
    fetched = api.get(f"/v1/events/{event_id}")
    calls: list[dict[str, Any]] = [
        json.loads(line)
        for line in record.read_text().splitlines()
        if json.loads(line)["request_id"] == fetched.headers["X-Request-ID"]
    ]
    # the id gives the key: one strongly consistent read of a small item
    assert [call["operation"] for call in calls] == ["GetItem"]
    assert calls[0]["capacity"]["table"] == 1.0


def test_each_request_logs_the_capacity_it_consumed(measured: tuple[Server, Path]) -> None:
    # GIVEN a put, a lookup and a page of the inbox, every call's capacity on record
    server, record = measured
    api: ApiClient = warm_client(server)
    put = api.post("/v1/events", json=EVENT)
    lookup = api.get(f"/v1/events/{put.json()['event_id']}")
    page = api.get("/v1/inbox", params={"limit": 5})

    # THEN each request's own log line reports the sum of what its calls consumed
    for response in (put, lookup, page):
        request_id = response.headers["X-Request-ID"]
        calls = [json.loads(line) for line in record.read_text().splitlines()]
        consumed = sum(
            call["capacity"]["table"] + sum(call["capacity"]["indexes"].values())
            for call in calls
            if call["request_id"] == request_id
        )
        logged = server.line(response, "request_finished")["dynamodb_capacity_units"]
        assert logged == pytest.approx(consumed), response.request.path_url
    assert server.line(put, "request_finished")["dynamodb_capacity_units"] == 3.0

"""An SDK retry never undoes what happened after its first attempt (over real HTTP).

A producer's write lands but its answer is lost (the loopback proxy forwards the write
and never answers), so botocore times out and resends it; the proxy holds that resend
until the test has acknowledged or deleted the event through another server, then
lets it through. The resend must change nothing: the event stays acknowledged, or
deleted, and the producer is still told it was stored, with the same id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from devstack.faultproxy import FaultProxy, Mode
from devstack.testing import ApiClient, Server, make_client, server_behind_proxy, wait_for
from events.models import Event

pytestmark = pytest.mark.integration


@pytest.fixture
def lossy(tables: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose first new-item write's answer is lost, and whose resends of it are
    held until the test releases them."""
    with server_behind_proxy(
        tables,
        tmp_path_factory.mktemp("lossy"),
        Mode.LOSE_WRITE_ANSWER,
        RATE_LIMIT_ENABLED="false",
        # The lost answer is given up on after 2 s; a resend held longer than that is
        # given up on too and sent again (held again), until the test releases them all.
        DYNAMODB_READ_TIMEOUT_SECONDS="2",
        DYNAMODB_MAX_RETRY_ATTEMPTS="20",
        DYNAMODB_DEADLINE_SECONDS="120",
        WEB_CONCURRENCY="1",
    ) as (server, proxy):
        server.proxy = proxy  # type: ignore[attr-defined]
        yield server


def write_with_a_lost_answer(
    lossy: Server, client: ApiClient, path: str, body: dict[str, Any], meanwhile: Callable[[], None]
) -> requests.Response:
    """Send the write to the lossy server; once its resend is held (the first attempt has
    landed), run `meanwhile`, then release the resend; the write's response."""
    proxy: FaultProxy = lossy.proxy  # type: ignore[attr-defined]
    headers = {"X-API-Key": client.api_key or ""}
    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(
            requests.post, lossy.url + path, json=body, headers=headers, timeout=180
        )
        wait_for(lambda: proxy.held >= 1 or answer.done(), timeout=60, what="a resend held")
        assert not answer.done(), answer.result().text
        meanwhile()
        proxy.release()
        return answer.result()


def stored(tenant_id: str) -> dict[str, dict[str, Any]]:
    return {
        item.event_id: item.attribute_values
        for item in Event.query(tenant_id, consistent_read=True)
    }


def pending_ids(client: ApiClient) -> list[str]:
    return [event["event_id"] for event in client.get("/v1/inbox?limit=100").json()["events"]]


EVENT = {"source": "retry", "event_type": "lost.answer", "payload": {"n": 1}}


@pytest.mark.parametrize("then", ["ack", "delete"])
def test_a_resent_put_leaves_an_acked_or_deleted_event_as_it_is(
    server: Server, lossy: Server, then: str
) -> None:
    client = make_client(server)
    seen: list[str] = []

    def consume() -> None:
        (event_id,) = pending_ids(client)  # the first attempt landed
        seen.append(event_id)
        if then == "ack":
            assert client.post(f"/v1/events/{event_id}/ack").status_code == 200
        else:
            assert client.delete(f"/v1/events/{event_id}").status_code == 204

    created = write_with_a_lost_answer(lossy, client, "/v1/events", EVENT, consume)

    assert created.status_code == 201, created.text
    assert created.json()["event_id"] == seen[0]
    assert pending_ids(client) == []
    fetched = client.get(f"/v1/events/{seen[0]}")
    if then == "ack":
        assert fetched.json()["status"] == "acknowledged"
    else:
        assert fetched.status_code == 404
        assert stored(client.tenant_id)[seen[0]]["status"] == "deleted"  # the tombstone


def test_a_resent_batch_leaves_acked_and_deleted_events_as_they_are(
    server: Server, lossy: Server
) -> None:
    client = make_client(server)
    events = [{**EVENT, "payload": {"n": n}} for n in range(3)]
    seen: list[str] = []

    def consume() -> None:
        seen.extend(pending_ids(client))  # the first attempt landed, all three
        assert len(seen) == 3
        assert client.post(f"/v1/events/{seen[0]}/ack").status_code == 200
        assert client.delete(f"/v1/events/{seen[1]}").status_code == 204

    answer = write_with_a_lost_answer(
        lossy, client, "/v1/events/batch", {"events": events}, consume
    )

    assert answer.status_code == 200, answer.text
    assert sorted(result["event_id"] for result in answer.json()["results"]) == sorted(seen)
    assert client.get(f"/v1/events/{seen[0]}").json()["status"] == "acknowledged"
    assert client.get(f"/v1/events/{seen[1]}").status_code == 404
    assert pending_ids(client) == [seen[2]]

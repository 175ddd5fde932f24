"""What a lookup by id costs: a miss is cheap (at most two calls, never a sleep), and the
same whoever owns the id; and a writer always reads its own write.

Counted on a server whose key cache is warm, so `dynamodb_calls` is the lookup alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from devstack.faultproxy import Mode
from devstack.testing import (
    ApiClient,
    Server,
    assert_error,
    server_behind_proxy,
    store_pending_events,
    warm_client,
)
from triggers.core.ids import new_event_id

pytestmark = pytest.mark.integration

AN_HOUR_AGO = datetime.now(UTC) - timedelta(hours=1)


def miss_cost(server: Server, api: ApiClient, event_id: str) -> tuple[int, int]:
    """(DynamoDB calls of the request, calls of the lookup) of a lookup that must 404."""
    response = api.get(f"/v1/events/{event_id}")
    assert_error(response, 404, "NOT_FOUND")
    lookup = server.line(response, "event_lookup")
    assert lookup["method"] == "gsi"
    return server.line(response, "request_finished")["dynamodb_calls"], lookup["calls"]


def test_old_and_random_ids_cost_one_query_whoever_owns_them(counting_server: Server) -> None:
    # GIVEN another tenant's event written an hour ago
    api, other = warm_client(counting_server), warm_client(counting_server)
    (theirs,) = store_pending_events(other.tenant_id, 1, created=AN_HOUR_AGO)
    assert other.get(f"/v1/events/{theirs}").status_code == 200

    # WHEN this tenant looks up that id, a random UUIDv4 and an old UUIDv7 nobody has
    costs = {
        "another tenant's": miss_cost(counting_server, api, theirs),
        "random UUIDv4": miss_cost(counting_server, api, str(uuid.uuid4())),
        "old UUIDv7": miss_cost(counting_server, api, new_event_id(AN_HOUR_AGO)),
    }

    # THEN each is one Query: no sleep, and nothing tells them apart
    assert set(costs.values()) == {(1, 1)}, costs


def test_recent_ids_cost_two_calls_whoever_owns_them(counting_server: Server) -> None:
    # GIVEN another tenant's event written just now, and a just-minted id nobody has
    api, other = warm_client(counting_server), warm_client(counting_server)
    theirs = other.create_event()["event_id"]

    # WHEN this tenant looks both up
    foreign = miss_cost(counting_server, api, theirs)
    missing = miss_cost(counting_server, api, new_event_id(datetime.now(UTC)))

    # THEN each is the index's Query and one consistent read of the base table (the index
    # may lag a fresh write): two calls, no retry, no sleep, and nothing tells them apart
    assert foreign == (2, 2)
    assert missing == foreign


@pytest.fixture(scope="module")
def lagging(tables: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose index Queries find nothing, as an index not yet caught up would."""
    directory = tmp_path_factory.mktemp("lagging")
    with server_behind_proxy(
        tables, directory, Mode.LAGGING_INDEX, WEB_CONCURRENCY="1", RATE_LIMIT_ENABLED="false"
    ) as (server, _):
        yield server


def test_a_writer_reads_its_write_while_the_index_lags(lagging: Server) -> None:
    # GIVEN an event just written, and an id index that does not show it yet
    api = warm_client(lagging)
    event_id = api.create_event(payload={"read": "your write"})["event_id"]

    # WHEN its writer reads it, acknowledges it and reads it again
    fetched = api.get(f"/v1/events/{event_id}")
    acked = api.post(f"/v1/events/{event_id}/ack")
    again = api.get(f"/v1/events/{event_id}")

    # THEN each read finds it, by the consistent read of its key
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["payload"] == {"read": "your write"}
    assert lagging.line(fetched, "event_lookup")["calls"] == 2
    assert acked.status_code == 200, acked.text
    assert again.json()["status"] == "acknowledged"

    # AND a deleted event is not found that way either
    assert api.delete(f"/v1/events/{event_id}").status_code == 204
    assert_error(api.get(f"/v1/events/{event_id}"), 404, "NOT_FOUND")


def test_events_with_uuid4_ids_from_before_uuid7_are_still_found(counting_server: Server) -> None:
    # GIVEN an event stored with a UUIDv4 id, as the service wrote them before
    from events.models import Event  # noqa: PLC0415 - Django is configured by now

    api = warm_client(counting_server)
    (event_id,) = store_pending_events(api.tenant_id, 1, created=AN_HOUR_AGO)
    event = Event.event_id_index.query(event_id).next()
    old_id = str(uuid.uuid4())
    event.delete()
    event.event_id = old_id
    event.created_key = f"{event.created_key.split('#')[0]}#{old_id}"
    event.save()

    # WHEN it is read, acknowledged and deleted, THEN all of it works, with one Query each
    response = api.get(f"/v1/events/{old_id}")
    assert response.status_code == 200
    assert response.json()["event_id"] == old_id
    assert counting_server.line(response, "event_lookup")["calls"] == 1
    assert api.post(f"/v1/events/{old_id}/ack").status_code == 200
    assert api.delete(f"/v1/events/{old_id}").status_code == 204

"""What a lookup by id costs: a UUIDv7 id gives its item's key (one consistent read), a
miss is cheap (at most two calls, never a sleep) and the same whoever owns the id; and a
writer always reads its own write, whatever the index shows.

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
    store_legacy_events,
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


def test_a_uuid7_id_is_one_read_of_its_key(counting_server: Server) -> None:
    api = warm_client(counting_server)
    event_id = api.create_event()["event_id"]

    found = api.get(f"/v1/events/{event_id}")

    assert found.status_code == 200
    lookup = counting_server.line(found, "event_lookup")
    assert (lookup["method"], lookup["calls"]) == ("key", 1)
    assert counting_server.line(found, "request_finished")["dynamodb_calls"] == 1


def test_misses_cost_the_same_whoever_owns_the_id(counting_server: Server) -> None:
    # GIVEN another tenant's events: one new (UUIDv7), one as older releases wrote them
    api, other = warm_client(counting_server), warm_client(counting_server)
    theirs = other.create_event()["event_id"]
    (theirs_legacy,) = store_legacy_events(other.tenant_id, 1)
    assert other.get(f"/v1/events/{theirs_legacy}").status_code == 200

    # WHEN this tenant looks them up, and ids of the same kinds that nobody has
    costs = {
        "another tenant's UUIDv7": miss_cost(counting_server, api, theirs),
        "nobody's UUIDv7": miss_cost(counting_server, api, new_event_id(AN_HOUR_AGO)),
        "another tenant's UUIDv4": miss_cost(counting_server, api, theirs_legacy),
        "nobody's UUIDv4": miss_cost(counting_server, api, str(uuid.uuid4())),
    }

    # THEN a UUIDv7 miss is the read of its key and the index's Query (an older event's
    # key may not be the id's), a UUIDv4 miss the Query alone: no retry, no sleep, and
    # nothing tells another tenant's event from a missing one
    assert costs == {
        "another tenant's UUIDv7": (2, 2),
        "nobody's UUIDv7": (2, 2),
        "another tenant's UUIDv4": (1, 1),
        "nobody's UUIDv4": (1, 1),
    }


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
    assert lagging.line(fetched, "event_lookup")["calls"] == 1
    assert acked.status_code == 200, acked.text
    assert again.json()["status"] == "acknowledged"

    # AND a deleted event is not found that way either
    assert api.delete(f"/v1/events/{event_id}").status_code == 204
    assert_error(api.get(f"/v1/events/{event_id}"), 404, "NOT_FOUND")


def test_events_with_uuid4_ids_from_before_uuid7_are_still_found(counting_server: Server) -> None:
    # GIVEN an event stored with a UUIDv4 id, as the service wrote them before
    api = warm_client(counting_server)
    (old_id,) = store_legacy_events(api.tenant_id, 1)

    # WHEN it is read, acknowledged and deleted, THEN all of it works: the index gives its
    # key, one consistent read gives the event
    response = api.get(f"/v1/events/{old_id}")
    assert response.status_code == 200
    assert response.json()["event_id"] == old_id
    lookup = counting_server.line(response, "event_lookup")
    assert (lookup["method"], lookup["calls"]) == ("gsi", 2)
    assert api.post(f"/v1/events/{old_id}/ack").status_code == 200
    assert api.delete(f"/v1/events/{old_id}").status_code == 204

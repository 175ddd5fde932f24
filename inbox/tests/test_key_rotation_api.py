"""Rotating the secret key mid-rollout, over HTTP: servers in each state of a rotation
(triggers/core/secret_key.py) share the tables, and a consumer's cursor or lease token
from one is honoured by the next, as when a load balancer sends its next request to an
instance the rollout has or has not reached yet."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

import pytest
import requests

from devstack.testing import (
    ApiClient,
    Server,
    assert_error,
    make_client,
    running_server,
    server_env,
    store_pending_events,
)

pytestmark = pytest.mark.integration

OLD = "old-key-" + "o" * 56
NEW = "new-key-" + "n" * 56

STATES = {
    "before": (OLD, ""),  # (DJANGO_SECRET_KEY, DJANGO_SECRET_KEY_FALLBACKS)
    "staged": (OLD, f"{NEW},{OLD}"),
    "promoted": (NEW, OLD),
    "without_fallbacks": (NEW, ""),  # a rotation as it was: the key replaced
}


@pytest.fixture(scope="module")
def servers(tables: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    """One single-worker server per state."""
    with ExitStack() as stack:
        yield {
            name: stack.enter_context(
                running_server(
                    tmp_path_factory.mktemp(name),
                    server_env(
                        tables,
                        WEB_CONCURRENCY="1",
                        RATE_LIMIT_ENABLED="false",
                        DJANGO_SECRET_KEY=key,
                        DJANGO_SECRET_KEY_FALLBACKS=fallbacks,
                    ),
                )
            )
            for name, (key, fallbacks) in STATES.items()
        }


@pytest.fixture
def clients(servers: dict[str, Server]) -> dict[str, ApiClient]:
    """One tenant's API key, as it reaches each server."""
    first = make_client(servers["before"])
    return {name: replace(first, base_url=server.url) for name, server in servers.items()}


def test_a_cursor_from_before_the_rotation_reads_on_after_it(
    clients: dict[str, ApiClient],
) -> None:
    ids = store_pending_events(clients["before"].tenant_id, 4)
    first = clients["before"].get("/v1/inbox", params={"limit": 2}).json()
    cursor = first["pagination"]["next_cursor"]

    # WHEN the next page is asked of an instance the rotation has reached
    page = clients["promoted"].get("/v1/inbox", params={"limit": 2, "cursor": cursor})

    # THEN it is the next page; an instance given the new key alone refuses the cursor
    assert page.status_code == 200, page.text
    assert [e["event_id"] for e in first["events"] + page.json()["events"]] == ids
    refused = clients["without_fallbacks"].get("/v1/inbox", params={"cursor": cursor})
    assert_error(refused, 400, "VALIDATION_ERROR")


def lease_one(client: ApiClient) -> dict[str, Any]:
    response = client.post("/v1/inbox/lease", json={"limit": 1})
    assert response.status_code == 200, response.text
    (event,) = response.json()["events"]
    return dict(event)


def ack(client: ApiClient, event: dict[str, Any]) -> requests.Response:
    return client.post(
        f"/v1/events/{event['event_id']}/ack", json={"lease_token": event["lease"]["token"]}
    )


def test_lease_tokens_are_acked_wherever_the_rollout_has_got_to(
    clients: dict[str, ApiClient],
) -> None:
    store_pending_events(clients["before"].tenant_id, 3)
    signed_before = lease_one(clients["before"])
    signed_after, also_signed_after = lease_one(clients["promoted"]), lease_one(clients["promoted"])

    # a token signed before the rotation, acked on an instance it has reached
    assert ack(clients["promoted"], signed_before).status_code == 200
    # a token signed by a promoted instance, acked on one the promotion has not reached
    assert ack(clients["staged"], signed_after).status_code == 200
    # and why every instance is staged first: one that was not refuses it
    assert_error(ack(clients["before"], also_signed_after), 404, "NOT_FOUND")
    assert ack(clients["promoted"], also_signed_after).status_code == 200

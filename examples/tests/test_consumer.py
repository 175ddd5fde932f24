"""The example consumer against the real service: it acks what it processes, and
releases (with a back-off delay) what its processing fails."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from devstack.localstack import ROOT
from devstack.testing import Server, make_client, store_pending_events
from examples import consumer

pytestmark = pytest.mark.integration


def test_the_consumer_acks_every_event_and_stops_when_empty(server: Server) -> None:
    api = make_client(server)
    ids = store_pending_events(api.tenant_id, 12)

    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "consumer.py"), "--url", server.url,
         "--key", str(api.api_key), "--limit", "5", "--exit-when-empty"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stderr.count(": acknowledged") == len(ids)
    statuses = {api.get(f"/v1/events/{event_id}").json()["status"] for event_id in ids}
    assert statuses == {"acknowledged"}


def test_a_failed_event_is_released_with_a_delay_and_delivered_again(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an event, and processing that fails (what a user's `process` does by raising)
    api = make_client(server)
    (event_id,) = store_pending_events(api.tenant_id, 1)
    client = consumer.Api(server.url, str(api.api_key))

    def failing(event: dict[str, Any]) -> None:
        raise RuntimeError("the downstream system is down")

    monkeypatch.setattr(consumer, "process", failing)
    _, leased = client.post("/v1/inbox/lease", {"limit": 1})

    # WHEN the consumer handles it
    outcome = consumer.handle(client, leased["events"][0], timeout=30)

    # THEN it was released, to come back after a delay (not at once), with its count
    assert outcome == "released (pending)"
    assert api.post("/v1/inbox/lease", json={}).json()["events"] == []
    assert api.get(f"/v1/events/{event_id}").json()["delivery_count"] == 1

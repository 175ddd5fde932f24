"""Every field that docs/CLOUDWATCH_QUERIES.md names is one the service really logs."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import requests
from django.conf import settings

from devstack.localstack import ROOT
from devstack.testing import Server, make_client, unknown_api_key

pytestmark = pytest.mark.integration

QUERIES = ROOT / "docs" / "CLOUDWATCH_QUERIES.md"

_KEYWORDS = {
    "fields", "filter", "stats", "sort", "limit", "display", "parse", "by", "as", "and",
    "or", "not", "in", "like", "desc", "asc", "dedup",
}  # fmt: skip
_STRING = re.compile(r'"[^"]*"|\'[^\']*\'')
_IDENTIFIER = re.compile(r"(?<![\w@.])([A-Za-z_]\w*(?:\.\w+)*)\b(?!\s*\()")
_ALIAS = re.compile(r"\bas\s+([A-Za-z_]\w*)")


def queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", QUERIES.read_text(), flags=re.S)


def fields_named(query: str) -> set[str]:
    """Log fields a Logs Insights query refers to (not keywords, functions, aliases, @builtins)."""
    text = _STRING.sub("", query)
    aliases = set(_ALIAS.findall(text))
    names = set(_IDENTIFIER.findall(text)) - _KEYWORDS - aliases
    return {name for name in names if not name[0].isdigit()}


def has_path(line: dict[str, Any], dotted: str) -> bool:
    value: Any = line
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False
    return True


def test_the_field_extractor_understands_the_query_language() -> None:
    query = (
        'filter event = "x" and method = "scan" | fields strcontains(status_class, "5xx") as e '
        "| stats pct(duration_ms, 95) as p95 by bin(5m), exception.0.exc_type | sort p95 desc"
    )
    assert fields_named(query) == {"event", "method", "status_class", "duration_ms",
                                   "exception.0.exc_type"}  # fmt: skip


@pytest.fixture(scope="module")
def logged(
    server: Server, broken_server: Server, unreachable_server: Server
) -> list[dict[str, Any]]:
    """Traffic that exercises every kind of line, then everything both servers wrote."""
    api = make_client(server)
    created = api.create_event(metadata={"idempotency_key": f"k-{uuid.uuid4()}"})
    replay_body = {"source": "tests", "event_type": "thing.happened", "payload": {"n": 1}}
    key = f"replay-{uuid.uuid4()}"
    api.post("/v1/events", json=replay_body, headers={"Idempotency-Key": key})
    api.post("/v1/events", json=replay_body, headers={"Idempotency-Key": key})
    api.get("/v1/inbox", params={"source": "tests"})
    leased = api.post("/v1/inbox/lease", json={"limit": 1}).json()["events"]
    for _ in range(settings.LEASE_MAX_DELIVERIES):  # the last release dead-letters it
        api.post("/v1/inbox/release", json={"lease_tokens": [leased[0]["lease"]["token"]]})
        leased = api.post("/v1/inbox/lease", json={"limit": 1}).json()["events"] or leased
    api.get(f"/v1/events/{created['event_id']}")
    api.post(f"/v1/events/{created['event_id']}/ack")
    api.delete(f"/v1/events/{created['event_id']}")
    api.get("/v1/inbox", headers={"X-API-Key": unknown_api_key()})
    requests.get(broken_server.url + "/v1/inbox", headers=api_key_header(), timeout=30)
    requests.get(unreachable_server.url + "/v1/inbox", headers=api_key_header(), timeout=30)
    return server.log_lines() + broken_server.log_lines() + unreachable_server.log_lines()


def api_key_header() -> dict[str, str]:
    return {"X-API-Key": unknown_api_key()}


def test_docs_have_the_queries_the_issue_asks_for() -> None:
    text = QUERIES.read_text()
    for heading in (
        "Error rate by endpoint",
        "Latency percentiles by endpoint",
        "Failed authentication attempts",
        "Event creation rate",
        "One request's whole story",
        "Slowest requests",
        "Scan-fallback lookups",
    ):
        assert f"## {heading}" in text
    assert len(queries()) >= 9


@pytest.mark.parametrize("query", queries(), ids=lambda q: q.splitlines()[0][:60])
def test_every_field_in_the_query_is_logged(query: str, logged: list[dict[str, Any]]) -> None:
    # scan lookups only happen on a table without the event-id-index (issue 5);
    # `method` itself is checked through the gsi lines.
    missing = sorted(
        name for name in fields_named(query) if not any(has_path(line, name) for line in logged)
    )
    assert missing == [], f"fields not found in any log line: {missing}"

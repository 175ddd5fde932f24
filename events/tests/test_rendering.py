"""The fast renderers answer exactly what the serializers (and so the OpenAPI schema) say,
byte for byte, on the same events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from events import services
from events.fields import EventDraft
from events.models import Event
from events.rendering import batch_json, created_json, item_json
from events.selectors import event_get, event_item
from events.serializers import (
    BatchFailedResultSerializer,
    BatchStoredResultSerializer,
    EventCreatedOutSerializer,
    EventOutSerializer,
    batch_result,
)
from events.validation import validate_batch_events
from inbox.leases import ack_event
from triggers.core.errors import ConflictError, ServiceUnavailableError
from triggers.http.content import JSONRenderer

pytestmark = pytest.mark.integration

PAYLOADS = [
    '{"n":1}',
    '{"big":123456789012345678901234567890,"exact":1.10,"neg":-0.0}',
    '{"text":"\\u00e9t\\u00e9 \\ud83d\\ude00 \\"quoted\\"","nested":{"a":[1,{"b":null}]}}',
]
METADATA: list[dict[str, Any]] = [
    {},
    {"priority": "high", "correlation_id": "req-123"},
    {"priority": "low"},
]


def same_bytes(fast: Any, slow: Any) -> None:
    assert JSONRenderer().render(fast) == JSONRenderer().render(slow)


@pytest.fixture(scope="module")
def tenant(tables: str) -> str:
    """Events of every shape: payloads, metadata, keyed, pending and acknowledged."""
    tenant_id = f"render-{uuid.uuid4().hex[:8]}"
    for n, (payload, metadata) in enumerate((p, m) for p in PAYLOADS for m in METADATA):
        draft = EventDraft(
            source=f"source-{n % 2}", event_type="rendered", payload=payload, metadata=metadata
        )
        key = f"render-key-{n}" if n % 3 == 0 else None
        ingested = services.event_ingest(tenant_id=tenant_id, draft=draft, idempotency_key=key)
        same_bytes(created_json(ingested), EventCreatedOutSerializer(ingested).data)
        if n % 2:
            ack_event(tenant_id=tenant_id, event_id=ingested.event_id)
    return tenant_id


def stored_items(tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's items as DynamoDB returns them (pending and acknowledged)."""
    return [item for page in Event.query(tenant_id).page_iter for item in page["Items"]]


def test_a_looked_up_event_renders_as_the_serializer_renders_its_model(tenant: str) -> None:
    items = stored_items(tenant)
    assert len(items) == len(PAYLOADS) * len(METADATA)
    for item in items:
        event_id = item["event_id"]["S"]
        looked_up = event_item(tenant_id=tenant, event_id=event_id)  # projected attributes
        model = event_get(tenant_id=tenant, event_id=event_id)
        same_bytes(item_json(looked_up), EventOutSerializer(model).data)


def test_an_item_renders_as_the_serializer_renders_its_model(tenant: str) -> None:
    statuses = set()
    for item in stored_items(tenant):
        statuses.add(item["status"]["S"])
        same_bytes(item_json(item), EventOutSerializer(Event.from_raw_data(item)).data)
    assert statuses == {"pending", "acknowledged"}


def test_batch_results_render_as_the_serializer_renders_them() -> None:
    created = datetime(2026, 11, 29, 8, 0, 0, tzinfo=UTC)  # microseconds 0: still printed
    stored = services.IngestedEvent("e-1", created, "s", "t", "pending", replayed=False)
    replayed = services.IngestedEvent("e-2", created, "s", "t", "pending", replayed=True)
    invalid, too_large = validate_batch_events(
        [{"source": "", "payload": [], "extra": 1}, {"payload": {"x": "y" * 300_000}}]
    )
    results = [
        batch_result(stored),
        batch_result(replayed),
        invalid,
        too_large,
        batch_result(ConflictError("The key was used with another body.")),
        batch_result(ServiceUnavailableError("Throttled; retry it.", cause="throttled")),
    ]
    indexed = [{"index": index, **result} for index, result in enumerate(results)]

    expected = [
        (BatchFailedResultSerializer if "error" in result else BatchStoredResultSerializer)(
            result
        ).data
        for result in indexed
    ]
    same_bytes(batch_json(indexed), expected)

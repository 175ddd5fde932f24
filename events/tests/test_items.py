"""The item the service writes for a new event is what PynamoDB writes for that Event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from events.batch import _size
from events.fields import EventDraft
from events.items import created_key_of, pending_event, pending_item
from events.models import PRIORITIES, STATUS_PENDING, Event, EventMetadata

TEXT = st.text(min_size=1, max_size=20)
METADATA = st.fixed_dictionaries(
    {},
    optional={
        "correlation_id": TEXT,
        "priority": st.sampled_from(PRIORITIES),
        "idempotency_key": st.from_regex(r"[\x21-\x7e]{1,20}", fullmatch=True),
    },
)
MOMENTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


def as_pynamodb_writes_it(tenant_id: str, draft: EventDraft, event_id: str, now: datetime) -> Event:
    """The event built attribute by attribute through the model, as the service once did."""
    key = f"{now.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{event_id}"
    return Event(
        tenant_id,
        key,
        event_id=event_id,
        created_at=now,
        source=draft.source,
        event_type=draft.event_type,
        payload=draft.payload,
        metadata=EventMetadata(**draft.metadata),
        status=STATUS_PENDING,
        delivery_count=0,
        inbox_tenant=tenant_id,
        visible_key=key,
        expires_at=now + timedelta(days=settings.EVENT_RETENTION_DAYS),
    )


@given(tenant=st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True), source=TEXT, event_type=TEXT,
       metadata=METADATA, now=MOMENTS)  # fmt: skip
def test_the_item_is_what_pynamodb_serializes_for_the_event(
    tenant: str, source: str, event_type: str, metadata: dict[str, str], now: datetime
) -> None:
    draft = EventDraft(source=source, event_type=event_type, payload='{"n":1}', metadata=metadata)

    made = pending_item(tenant_id=tenant, draft=draft, now=now)

    # kept to the millisecond, the id's own precision
    to_the_millisecond = now.replace(microsecond=now.microsecond // 1000 * 1000)
    expected = as_pynamodb_writes_it(tenant, draft, made.event_id, to_the_millisecond).serialize()
    assert made.item == expected
    assert made.key == (tenant, expected["created_key"]["S"])
    assert (made.created_at, made.source, made.event_type) == (
        to_the_millisecond,
        source,
        event_type,
    )
    # and the id alone gives the item's key
    assert created_key_of(made.event_id) == made.key[1]


def test_the_model_form_reads_back_the_same_event() -> None:
    draft = EventDraft(source="s", event_type="t", payload='{"a":[1,2]}', metadata={})
    now = datetime(2026, 11, 29, 8, 0, 0, 123000, tzinfo=UTC)

    event = pending_event(tenant_id="t1", draft=draft, now=now)

    assert event.created_at == now
    assert event.metadata.priority == "normal"
    assert event.metadata.correlation_id is None
    assert event.expires_at == now.replace(microsecond=0) + timedelta(days=7)
    assert event.serialize() == pending_item(tenant_id="t1", draft=draft, now=now).item | {
        "event_id": {"S": event.event_id},
        "created_key": {"S": event.created_key},
        "visible_key": {"S": event.created_key},
    }


def _dynamodb_size(value: object) -> int:
    """An attribute value's size as DynamoDB counts it (UTF-8 bytes of names and text)."""
    if isinstance(value, dict):
        return sum(len(str(name).encode()) + _dynamodb_size(inner) for name, inner in value.items())
    return len(str(value).encode())


@given(tenant=TEXT, source=TEXT, note=st.text(max_size=200), metadata=METADATA)
def test_a_batch_never_measures_an_item_smaller_than_dynamodb_does(
    tenant: str, source: str, note: str, metadata: dict[str, str]
) -> None:
    draft = EventDraft(source=source, event_type="e", payload=f'{{"note": "{note}"}}',
                       metadata=metadata)  # fmt: skip
    item = pending_item(tenant_id=tenant, draft=draft).item

    assert _size(item) >= _dynamodb_size(item)

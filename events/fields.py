"""One definition of an event: each of its fields, once.

`FIELDS` lists what an event item holds, `METADATA_FIELDS` what its `metadata` holds:
each field's DynamoDB type, how it is stored, whether responses show it, whether reads
fetch it, and how a producer's value is validated. Everything that must agree on an
event is derived from these two tables instead of restating them:

- `new_item`: a new event as the DynamoDB item written (no model built: a batch of 25
  once spent half its CPU building PynamoDB models);
- `render_item`: a stored item as the response's JSON (no model, no serializer);
- `READ_ATTRIBUTES`: what reads fetch (DynamoDB's ProjectionExpression);
- `SENT_FIELDS` / `TextRule`: the fast validator (events/validation.py) and the input
  serializers (events/serializers.py), which also derive the response serializers;
- `EventDraft`: what a producer sent, and what an idempotent retry's fingerprint covers.

This is also the one module that knows how PynamoDB stores an event (its time format,
its connection). `events/tests/test_fields.py` holds the PynamoDB model, the serializers
and the served OpenAPI schema to these tables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

import orjson
from pynamodb.connection.table import TableConnection

from events.models import DEFAULT_PRIORITY, PRIORITIES, Event

__all__ = [
    "FIELDS",
    "METADATA_FIELDS",
    "READ_ATTRIBUTES",
    "SENT_FIELDS",
    "EventDraft",
    "Field",
    "MetadataField",
    "RawItem",
    "TextRule",
    "event_connection",
    "metadata_defaults",
    "new_item",
    "parsed_time",
    "render_item",
    "request_hash_metadata",
    "stored_time",
]

RawItem = dict[str, Any]
Stored = Literal["text", "time", "json", "metadata", "epoch", "count"]
Sent = Literal["text", "json_object", "metadata"]

# How PynamoDB's UTCDateTimeAttribute stores a time: "2026-11-29T07:03:41.748978+0000";
# responses say "...978Z".
_STORED_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%f+0000"
_STORED_UTC_SUFFIX: Final = "+0000"


@dataclass(frozen=True, slots=True)
class TextRule:
    """A producer's text, as DRF's CharField takes it: a string, trimmed, not blank, at
    most `max_length` characters, no NUL or lone surrogate; with `pattern` (one character
    class and "+"), matching it whole; with `choices`, exactly one of them (untrimmed)."""

    max_length: int = 0
    pattern: str | None = None
    pattern_message: str = ""  # the error when the pattern does not match
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Field:
    """One attribute of an event item."""

    name: str
    dynamodb_type: Literal["S", "N", "M"]
    stored: Stored
    shown: bool = False  # in an event's response
    projected: bool = False  # fetched by reads (shown fields, and the item's keys)
    sent: Sent | None = None  # given by the producer, validated so
    rule: TextRule | None = None  # for sent text
    nullable: bool = False


@dataclass(frozen=True, slots=True)
class MetadataField:
    """One key of an event's `metadata` (optional for a producer; responses show every
    key, null when absent)."""

    name: str
    rule: TextRule
    default: str | None = None
    in_request_hash: bool = True  # part of an idempotent request's fingerprint


TEXT_FIELD_MAX_LENGTH: Final = 100  # source, event_type: after trimming
_LABEL: Final = TextRule(max_length=TEXT_FIELD_MAX_LENGTH)

METADATA_FIELDS: Final = (
    MetadataField("correlation_id", TextRule(max_length=255)),
    MetadataField("priority", TextRule(choices=PRIORITIES), default=DEFAULT_PRIORITY),
    # Given in the header or here; where it was given is not part of the request.
    MetadataField(
        "idempotency_key",
        TextRule(
            max_length=255,
            pattern=r"[\x21-\x7e]+",
            pattern_message="Use printable ASCII characters without spaces.",
        ),
        in_request_hash=False,
    ),
)

FIELDS: Final = (
    Field("tenant_id", "S", "text", projected=True),
    # "{created_at}#{event_id}": a tenant's events in time order, unique per tenant.
    Field("created_key", "S", "text", projected=True),
    Field("event_id", "S", "text", shown=True, projected=True),
    Field("created_at", "S", "time", shown=True, projected=True),
    Field("source", "S", "text", shown=True, projected=True, sent="text", rule=_LABEL),
    Field("event_type", "S", "text", shown=True, projected=True, sent="text", rule=_LABEL),
    # Compact JSON text exactly as rendered back to clients (numbers keep their digits).
    Field("payload", "S", "json", shown=True, projected=True, sent="json_object"),
    Field("metadata", "M", "metadata", shown=True, projected=True, sent="metadata"),
    Field("status", "S", "text", shown=True, projected=True),
    Field("acknowledged_at", "S", "time", shown=True, projected=True, nullable=True),
    # Times leased since written or redriven; shown as 0 on events written before leases.
    Field("delivery_count", "N", "count", shown=True, projected=True, nullable=True),
    Field("dead_lettered_at", "S", "time", shown=True, projected=True, nullable=True),
    # The keys of queue-index (events.models.QueueIndex), set only while the event is in
    # a queue; and the current lease. Not fetched by reads: no response shows them.
    Field("inbox_tenant", "S", "text", nullable=True),
    Field("visible_key", "S", "text", nullable=True),
    Field("lease_id", "S", "text", nullable=True),
    Field("leased_at", "S", "time", nullable=True),
    # Keys of earlier releases' per-filter inbox indexes: never written now.
    Field("inbox_source", "S", "text", nullable=True),
    Field("inbox_event_type", "S", "text", nullable=True),
    # TTL (epoch seconds). Not fetched: reads filter on it server side.
    Field("expires_at", "N", "epoch"),
)

READ_ATTRIBUTES: Final = tuple(field.name for field in FIELDS if field.projected)
SENT_FIELDS: Final = tuple(field for field in FIELDS if field.sent is not None)


@dataclass(frozen=True, slots=True)
class EventDraft:
    """What a producer sends for one event, validated (`payload` as compact JSON text):
    the SENT_FIELDS, one attribute each."""

    source: str
    event_type: str
    payload: str
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_validated(cls, data: Mapping[str, Any]) -> EventDraft:
        """From a validator's (or serializer's) validated data."""
        return cls(**{field.name: data[field.name] for field in SENT_FIELDS if field.name in data})

    def values(self) -> dict[str, Any]:
        """The item's values of what the producer sent."""
        return {field.name: getattr(self, field.name) for field in SENT_FIELDS}

    def fingerprint(self) -> dict[str, Any]:
        """What an idempotent request's hash covers: what was sent, metadata with its
        defaults applied (no `priority` is `"normal"`), not where the key was given."""
        return {**self.values(), "metadata": request_hash_metadata(self.metadata)}


def stored_time(moment: datetime) -> str:
    """A time as PynamoDB's UTCDateTimeAttribute stores it."""
    return moment.astimezone(UTC).strftime(_STORED_TIME_FORMAT)


def parsed_time(stored: str) -> datetime:
    """A time as stored (`stored_time`), back as an aware datetime."""
    return datetime.strptime(stored, _STORED_TIME_FORMAT).replace(tzinfo=UTC)


def _shown_time(stored: str) -> str:
    return stored.removesuffix(_STORED_UTC_SUFFIX) + "Z"


def metadata_defaults(metadata: Mapping[str, str]) -> dict[str, str]:
    """A producer's metadata with the defaults of the keys it did not give."""
    return {
        field.name: value
        for field in METADATA_FIELDS
        if (value := metadata.get(field.name, field.default)) is not None
    }


def request_hash_metadata(metadata: Mapping[str, str]) -> dict[str, str | None]:
    """The metadata an idempotent request's fingerprint covers (defaults applied)."""
    return {
        field.name: metadata.get(field.name, field.default)
        for field in METADATA_FIELDS
        if field.in_request_hash
    }


# --- writing: values -> item ----------------------------------------------------------


def _encode(field: Field, value: Any) -> dict[str, Any]:
    if field.stored == "time":
        return {"S": stored_time(value)}
    if field.stored == "epoch":
        return {"N": str(int(value.timestamp()))}
    if field.stored == "count":
        return {"N": str(int(value))}
    if field.stored == "metadata":
        return {"M": {name: {"S": text} for name, text in metadata_defaults(value).items()}}
    return {"S": value}


def new_item(values: Mapping[str, Any]) -> RawItem:
    """The DynamoDB item of an event: every field given a value (text as str, times and
    `expires_at` as aware datetimes, metadata as the producer's dict), in FIELDS' order.
    A nullable field may be left out."""
    return {
        field.name: _encode(field, values[field.name])
        for field in FIELDS
        if not (field.nullable and values.get(field.name) is None)
    }


# --- reading: item -> response JSON -----------------------------------------------------


def _text(value: dict[str, Any] | None) -> str | None:
    return None if value is None or "NULL" in value else str(value["S"])


def _time(value: dict[str, Any] | None) -> str | None:
    text = _text(value)
    return None if text is None else _shown_time(text)


def _json(value: dict[str, Any] | None) -> orjson.Fragment:
    assert value is not None  # noqa: S101 - every event has a payload
    return orjson.Fragment(value["S"])


def _count(value: dict[str, Any] | None) -> int:
    return 0 if value is None else int(value["N"])


def _metadata(value: dict[str, Any] | None) -> dict[str, str | None]:
    stored = (value or {}).get("M", {})
    return {field.name: _text(stored.get(field.name)) for field in METADATA_FIELDS}


_DECODERS: dict[Stored, Callable[[dict[str, Any] | None], Any]] = {
    "text": _text,
    "time": _time,
    "json": _json,
    "metadata": _metadata,
    "count": _count,
}
_SHOWN: Final = tuple((field.name, _DECODERS[field.stored]) for field in FIELDS if field.shown)


def render_item(item: RawItem) -> dict[str, Any]:
    """A stored event as its response JSON (the payload embedded as stored)."""
    return {name: decode(item.get(name)) for name, decode in _SHOWN}


def event_connection() -> TableConnection:
    """The events table's PynamoDB connection, for the writes sent as raw items."""
    return Event._get_connection()

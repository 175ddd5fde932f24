"""Events as response JSON, built directly: the hot paths' renderers.

DRF serializers (events/serializers.py) define the response shapes and the OpenAPI
schema; building the same dicts by hand costs a fraction of their per-request field
copying and lookups (a page of 50 events is 50 nested serializations). Reads render
straight from DynamoDB's items, without building PynamoDB models.
`events/tests/test_rendering.py` holds each renderer to the serializer's exact bytes.
"""

from __future__ import annotations

from typing import Any

import orjson

from events.models import Event
from triggers.core.clock import format_timestamp

__all__ = ["ack_json", "batch_json", "created_json", "item_json"]

RawItem = dict[str, Any]
# PynamoDB stores times as "2026-11-29T07:03:41.748978+0000"; responses say "...978Z".
_STORED_UTC_SUFFIX = "+0000"


def created_json(ingested: Any) -> dict[str, Any]:
    """What POST /v1/events answers (an IngestedEvent)."""
    return {
        "event_id": ingested.event_id,
        "created_at": format_timestamp(ingested.created_at),
        "status": ingested.status,
        "source": ingested.source,
        "event_type": ingested.event_type,
    }


def _text(item: RawItem, name: str) -> str | None:
    value = item.get(name)
    return None if value is None or "NULL" in value else str(value["S"])


def _time(item: RawItem, name: str) -> str | None:
    stored = _text(item, name)
    return None if stored is None else stored.removesuffix(_STORED_UTC_SUFFIX) + "Z"


def item_json(item: RawItem) -> dict[str, Any]:
    """A whole event, from the item DynamoDB returned (the inbox's pages)."""
    metadata = item.get("metadata", {}).get("M", {})
    return {
        "event_id": item["event_id"]["S"],
        "created_at": _time(item, "created_at"),
        "source": item["source"]["S"],
        "event_type": item["event_type"]["S"],
        "payload": orjson.Fragment(item["payload"]["S"]),
        "metadata": {
            "correlation_id": _text(metadata, "correlation_id"),
            "priority": _text(metadata, "priority"),
            "idempotency_key": _text(metadata, "idempotency_key"),
        },
        "status": item["status"]["S"],
        "acknowledged_at": _time(item, "acknowledged_at"),
    }


def ack_json(event: Event) -> dict[str, Any]:
    """What POST /v1/events/{id}/ack answers."""
    return {
        "event_id": event.event_id,
        "status": event.status,
        "acknowledged_at": format_timestamp(event.acknowledged_at),
    }


def _batch_item_json(result: dict[str, Any]) -> dict[str, Any]:
    if "error" in result:
        error = result["error"]
        details = {str(name): value for name, value in error["details"].items()}
        return {
            "index": result["index"],
            "error": {"code": error["code"], "message": error["message"], "details": details},
        }
    return {
        "index": result["index"],
        "event_id": result["event_id"],
        "created_at": format_timestamp(result["created_at"]),
        "status": result["status"],
        "replayed": result["replayed"],
    }


def batch_json(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What POST /v1/events/batch answers in `results`: one entry per event, in order."""
    return [_batch_item_json(result) for result in results]

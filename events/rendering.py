"""Events as response JSON, built directly: the hot paths' renderers.

DRF serializers (events/serializers.py) define the response shapes and the OpenAPI
schema; building the same dicts by hand costs a fraction of their per-request field
copying and lookups (a page of 50 events is 50 nested serializations). Reads render
straight from DynamoDB's items, without building PynamoDB models, through the one table
of an event's fields (`events.fields.render_item`).
`events/tests/test_rendering.py` holds each renderer to the serializer's exact bytes.
"""

from __future__ import annotations

from typing import Any

from events.fields import RawItem, render_item
from triggers.core.clock import format_timestamp

__all__ = ["batch_json", "created_json", "item_json"]


def created_json(ingested: Any) -> dict[str, Any]:
    """What POST /v1/events answers (an IngestedEvent)."""
    return {
        "event_id": ingested.event_id,
        "created_at": format_timestamp(ingested.created_at),
        "status": ingested.status,
        "source": ingested.source,
        "event_type": ingested.event_type,
    }


def item_json(item: RawItem) -> dict[str, Any]:
    """A whole event, from the item DynamoDB returned (the inbox's pages, GET)."""
    return render_item(item)


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

"""What each DynamoDB call consumed, table and indexes apart, for the write-cost table.

Installed by devstack.settings (a deployment never runs it). With
DEVSTACK_CAPACITY_RECORD=<file>, every data-plane call asks DynamoDB for
`ReturnConsumedCapacity=INDEXES` and appends one JSON line per call to the file:

    {"request_id": "…", "operation": "PutItem",
     "capacity": {"table": 1.0, "indexes": {"inbox-index": 1.0, …}}}

DynamoDB Local reports consumed capacity as DynamoDB does (an index a write leaves
untouched is absent; a changed index key costs that index 2; a transaction doubles
every unit), so the figures are measured, not computed. `request_id` is the request
the call served (structlog's bound context), so a test can read one request's cost.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import structlog
from django.conf import settings
from pynamodb.signals import pre_dynamodb_send

from observability.dynamodb import CAPACITY_OPERATIONS
from triggers.core.aws import on_each_new_client

__all__ = ["connect"]

_lock = threading.Lock()


def _ask(params: dict[str, Any], model: Any, **_: Any) -> None:
    if model.name in CAPACITY_OPERATIONS:
        params["ReturnConsumedCapacity"] = "INDEXES"


def _summed(consumed: Any) -> dict[str, Any]:
    """One call's capacity, whatever its shape (one table's, or a list of tables')."""
    entries = consumed if isinstance(consumed, list) else [consumed]
    table = 0.0
    indexes: dict[str, float] = {}
    for entry in entries:
        table += float(entry.get("Table", {}).get("CapacityUnits", 0.0))
        for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            for name, used in entry.get(kind, {}).items():
                indexes[name] = indexes.get(name, 0.0) + float(used.get("CapacityUnits", 0.0))
    return {"table": table, "indexes": indexes}


def _record(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
    consumed = parsed.get("ConsumedCapacity")
    if model.name not in CAPACITY_OPERATIONS or not consumed:
        return
    line = {
        "request_id": structlog.contextvars.get_contextvars().get("request_id"),
        "operation": model.name,
        "capacity": _summed(consumed),
    }
    with _lock, Path(settings.DEVSTACK_CAPACITY_RECORD).open("a", encoding="utf-8") as record:
        record.write(json.dumps(line) + "\n")


def _instrument(events: Any) -> None:
    events.register("provide-client-params.dynamodb", _ask, unique_id="triggers-capacity-ask")
    events.register("after-call.dynamodb", _record, unique_id="triggers-capacity-record")


def connect() -> None:
    """Called once from DevstackConfig.ready(): measures nothing unless asked to."""
    if settings.DEVSTACK_CAPACITY_RECORD:
        pre_dynamodb_send.connect(on_each_new_client(_instrument), weak=False)

"""Adding (and removing) a model's global secondary index on a live DynamoDB table.

The steps `manage.py migrate_gsi` takes, as plain functions over a boto3 client:
compare the index the model declares with the live table, build the exact
UpdateTable request, and wait for DynamoDB to finish (index ACTIVE, or gone).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pynamodb.models import Model

from events.models import QueueIndex
from events.tables import TableCommandError, TableState, declared_index, table_state

__all__ = [
    "IndexProgress",
    "backfill_queue_key",
    "create_index_request",
    "delete_index_request",
    "existing_table",
    "wait_for_index",
]


def existing_table(client: Any, table: str, *, region: str) -> TableState:
    state = table_state(client, table, region=region)
    if not state.exists:
        raise TableCommandError(
            f"Table {table} does not exist in {region}. Check --table-name and --region "
            "(or create it with `manage.py create_tables`)."
        )
    return state


def create_index_request(model: type[Model], state: TableState, index: str) -> dict[str, Any]:
    """The UpdateTable request that adds `index` as the model declares it.

    Attribute definitions are the table's existing ones plus the index's keys (DynamoDB
    wants every attribute any index uses); throughput follows the table's billing mode.
    """
    table = state.description
    schema = type(declared_index(model, index))._get_schema()  # PynamoDB's own schema
    definitions = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
    for definition in schema["attribute_definitions"]:
        known = definitions.setdefault(definition["AttributeName"], definition["AttributeType"])
        if known != definition["AttributeType"]:
            raise TableCommandError(
                f"Attribute {definition['AttributeName']} is {known} on the table but "
                f"{definition['AttributeType']} in the model's index."
            )
    create: dict[str, Any] = {
        "IndexName": index,
        # DynamoDB wants HASH before RANGE; PynamoDB lists the keys in attribute-name order.
        "KeySchema": sorted(schema["key_schema"], key=lambda key: key["KeyType"] != "HASH"),
        "Projection": schema["projection"],
    }
    billing = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    if billing == "PROVISIONED":
        throughput = table["ProvisionedThroughput"]
        create["ProvisionedThroughput"] = {
            "ReadCapacityUnits": throughput["ReadCapacityUnits"],
            "WriteCapacityUnits": throughput["WriteCapacityUnits"],
        }
    return {
        "TableName": table["TableName"],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in sorted(definitions.items())
        ],
        "GlobalSecondaryIndexUpdates": [{"Create": create}],
    }


def delete_index_request(table: str, index: str) -> dict[str, Any]:
    return {"TableName": table, "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": index}}]}


@dataclass(frozen=True)
class IndexProgress:
    elapsed_seconds: float
    status: str  # CREATING, ACTIVE, DELETING, or GONE
    backfilling: bool
    index_items: int | None
    table_items: int | None

    def line(self, index: str) -> str:
        state = self.status + (" (backfilling)" if self.backfilling else "")
        items = (
            f"{self.index_items}/{self.table_items} items"
            if self.index_items is not None
            else "item count pending"
        )
        return f"[{self.elapsed_seconds:6.1f}s] {index}: {state}, {items}"


def wait_for_index(
    client: Any,
    *,
    table: str,
    index: str,
    region: str,
    until_gone: bool,
    timeout: float,
    poll_seconds: float,
    report: Callable[[IndexProgress], None],
) -> IndexProgress:
    """Poll until the index is ACTIVE and backfilled (or gone, for a rollback)."""
    started = time.monotonic()
    while True:
        state = existing_table(client, table, region=region)
        live = state.indexes.get(index)
        progress = IndexProgress(
            elapsed_seconds=time.monotonic() - started,
            status="GONE" if live is None else live.status,
            backfilling=bool(live and live.backfilling),
            index_items=None if live is None else live.item_count,
            table_items=state.item_count,
        )
        report(progress)
        done = (
            live is None if until_gone else progress.status == "ACTIVE" and not progress.backfilling
        )
        if done:
            return progress
        if progress.elapsed_seconds >= timeout:
            raise TableCommandError(
                f"{index} is still {progress.status} after {timeout:.0f}s. DynamoDB keeps "
                "working on it; re-run the same command to keep waiting."
            )
        time.sleep(poll_seconds)


_QUEUED_WITHOUT_KEY = "attribute_exists(inbox_tenant) AND attribute_not_exists(visible_key)"


def backfill_queue_key(
    client: Any,
    *,
    table: str,
    index: str,
    dry_run: bool,
    report: Callable[[int], None],
    scan_index: str | None = None,
) -> int:
    """Set `visible_key` on every queued event that lacks it; how many needed it.

    Only queue-index needs this: its range key exists only on events written since it
    was introduced, and an index built without it would hide older pending events from
    leases and the inbox. Such an event becomes visible at once: its `visible_key` is its
    `created_key`. Queued events are read from `scan_index` if given (the sparse
    inbox-index of earlier releases), else from the table; an event acknowledged or
    deleted meanwhile is skipped (the update is conditional). Run it once every
    instance writes the key (after the deploy that introduced it); re-running it is safe.
    """
    if index != QueueIndex.Meta.index_name:
        return 0
    needed = 0
    scan: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": _QUEUED_WITHOUT_KEY,
        "ProjectionExpression": "tenant_id, created_key",
    }
    if scan_index is not None:
        scan["IndexName"] = scan_index
    for page in client.get_paginator("scan").paginate(**scan):
        for item in page["Items"]:
            needed += 1
            if not dry_run:
                _set_visible_key(client, table, item)
        report(needed)
    return needed


def _set_visible_key(client: Any, table: str, item: dict[str, Any]) -> None:
    # Acknowledged or deleted since the scan (no longer queued), or leased by a new
    # instance (its key is set): nothing to do.
    with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):
        client.update_item(
            TableName=table,
            Key={"tenant_id": item["tenant_id"], "created_key": item["created_key"]},
            UpdateExpression="SET visible_key = created_key",
            ConditionExpression=_QUEUED_WITHOUT_KEY,
        )

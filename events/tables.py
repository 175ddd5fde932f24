"""Creating the project's DynamoDB tables: idempotent steps used by `create_tables`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pynamodb.models import Model

from triggers.aws import aws_client

__all__ = ["TableState", "declared_indexes", "ensure_ttl", "table_state"]


def declared_indexes(model: type[Model]) -> dict[str, Any]:
    """The model's global secondary indexes by their DynamoDB name (`event-id-index`)."""
    # PynamoDB keeps them by Python attribute name in Model._indexes.
    return {index.Meta.index_name: index for index in model._indexes.values()}


@dataclass(frozen=True, slots=True)
class TableState:
    name: str
    exists: bool
    status: str | None = None
    indexes: dict[str, str] = field(default_factory=dict)  # name -> IndexStatus

    def missing_indexes(self, model: type[Model]) -> list[str]:
        return [name for name in declared_indexes(model) if name not in self.indexes]


def table_state(model: type[Model], *, client: Any | None = None) -> TableState:
    client = client or aws_client("dynamodb")
    name = model.Meta.table_name
    try:
        table = client.describe_table(TableName=name)["Table"]
    except client.exceptions.ResourceNotFoundException:
        return TableState(name=name, exists=False)
    indexes = {
        index["IndexName"]: index["IndexStatus"]
        for index in table.get("GlobalSecondaryIndexes", [])
    }
    return TableState(name=name, exists=True, status=table["TableStatus"], indexes=indexes)


def ttl_attribute_name(model: type[Model]) -> str | None:
    attribute = model._ttl_attribute()
    return attribute.attr_name if attribute else None


def ensure_ttl(model: type[Model], *, client: Any | None = None) -> bool:
    """Enable TTL on the model's TTL attribute unless already on. True if it changed."""
    attr_name = ttl_attribute_name(model)
    if attr_name is None:
        return False
    client = client or aws_client("dynamodb")
    name = model.Meta.table_name
    description = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if description.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return False
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attr_name}
    )
    return True

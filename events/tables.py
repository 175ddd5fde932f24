"""The project's DynamoDB tables, and what the management commands read about them.

The one place that inspects live tables: `table_state` (DescribeTable, with errors
that say what to do), what a model declares (`declared_indexes`), and TTL. The
service itself never calls these on the request path (docs/RELIABILITY.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)
from pynamodb.models import Model

__all__ = [
    "IndexState",
    "TableCommandError",
    "TableState",
    "declared_index",
    "declared_indexes",
    "declared_projection",
    "ensure_ttl",
    "same_projection",
    "table_state",
    "ttl_attribute_name",
]

_CREDENTIAL_ERRORS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "AccessDeniedException",
        "MissingAuthenticationTokenException",
    }
)


class TableCommandError(Exception):
    """A table cannot be inspected or changed; the message says why and what to do."""


def declared_indexes(model: type[Model]) -> dict[str, Any]:
    """The model's global secondary indexes by their DynamoDB name (`event-id-index`)."""
    # PynamoDB keeps them by Python attribute name in Model._indexes.
    return {index.Meta.index_name: index for index in model._indexes.values()}


def declared_projection(model: type[Model], index: str) -> dict[str, Any]:
    """The Projection the model declares for `index`, as DescribeTable reports one."""
    projection: dict[str, Any] = type(declared_index(model, index))._get_schema()["projection"]
    return projection


def same_projection(live: dict[str, Any], declared: dict[str, Any]) -> bool:
    return live.get("ProjectionType") == declared.get("ProjectionType") and sorted(
        live.get("NonKeyAttributes", [])
    ) == sorted(declared.get("NonKeyAttributes", []))


def declared_index(model: type[Model], index: str) -> Any:
    declared = declared_indexes(model)
    if index in declared:
        return declared[index]
    names = ", ".join(sorted(declared))
    raise TableCommandError(f"{model.__name__} declares no index {index!r} (it has: {names}).")


@dataclass(frozen=True, slots=True)
class IndexState:
    status: str  # CREATING, UPDATING, DELETING, ACTIVE
    backfilling: bool
    item_count: int | None
    projection: dict[str, Any] = field(default_factory=dict)  # DescribeTable's Projection

    @property
    def serves_reads(self) -> bool:
        return self.status == "ACTIVE" and not self.backfilling


@dataclass(frozen=True, slots=True)
class TableState:
    """A live table as DescribeTable saw it (`exists` False if it has no such table)."""

    name: str
    exists: bool
    status: str | None = None
    item_count: int | None = None
    indexes: dict[str, IndexState] = field(default_factory=dict)
    description: dict[str, Any] = field(default_factory=dict)  # DescribeTable's "Table"

    def missing_indexes(self, model: type[Model]) -> list[str]:
        return [name for name in declared_indexes(model) if name not in self.indexes]

    def undeclared_indexes(self, model: type[Model]) -> list[str]:
        return [name for name in self.indexes if name not in declared_indexes(model)]

    def reprojected_indexes(self, model: type[Model]) -> list[str]:
        """Indexes the model declares with another projection than the live one."""
        return [
            name
            for name, live in self.indexes.items()
            if name in declared_indexes(model)
            and not same_projection(live.projection, declared_projection(model, name))
        ]

    def indexes_in_flux(self, *, other_than: str) -> list[str]:
        """Indexes still being created, updated or deleted (DynamoDB allows one at a time)."""
        return [
            f"{name} ({index.status})"
            for name, index in self.indexes.items()
            if name != other_than and index.status != "ACTIVE"
        ]


def table_state(client: Any, table: str, *, region: str) -> TableState:
    """DescribeTable, read into a TableState; TableCommandError says what to fix when the
    table cannot be reached at all (credentials, region, endpoint)."""
    try:
        description: dict[str, Any] = client.describe_table(TableName=table)["Table"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            return TableState(name=table, exists=False)
        if code in _CREDENTIAL_ERRORS:
            raise TableCommandError(
                f"AWS refused the credentials for {region} ({code}). Check the credentials "
                "and that they may call dynamodb:DescribeTable and UpdateTable."
            ) from None
        raise
    except NoCredentialsError:
        raise TableCommandError("No AWS credentials found.") from None
    except NoRegionError:
        raise TableCommandError("No AWS region: pass --region or set AWS_REGION.") from None
    except EndpointConnectionError as exc:
        raise TableCommandError(
            f"Cannot reach DynamoDB ({exc.kwargs.get('endpoint_url')}): wrong region or endpoint?"
        ) from None
    indexes = {
        index["IndexName"]: IndexState(
            status=index["IndexStatus"],
            backfilling=bool(index.get("Backfilling")),
            item_count=index.get("ItemCount"),
            projection=index.get("Projection", {}),
        )
        for index in description.get("GlobalSecondaryIndexes", [])
    }
    return TableState(
        name=table,
        exists=True,
        status=description["TableStatus"],
        item_count=description.get("ItemCount"),
        indexes=indexes,
        description=description,
    )


def ttl_attribute_name(model: type[Model]) -> str | None:
    attribute = model._ttl_attribute()
    return attribute.attr_name if attribute else None


def ensure_ttl(model: type[Model], *, client: Any) -> bool:
    """Enable TTL on the model's TTL attribute unless already on. True if it changed."""
    attr_name = ttl_attribute_name(model)
    if attr_name is None:
        return False
    name = model.Meta.table_name
    description = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if description.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return False
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attr_name}
    )
    return True

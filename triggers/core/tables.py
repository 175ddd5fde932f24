"""The table registry: every PynamoDB model that owns a DynamoDB table.

Each app registers its tables from its AppConfig.ready(); whatever must touch every
table (create_tables, the health check, the IAM resources) asks `registered_tables()`
instead of importing the apps.
"""

from __future__ import annotations

from typing import Any

__all__ = ["register_table", "registered_tables"]

_TABLES: list[type[Any]] = []


def register_table(model: type[Any]) -> None:
    """Add a PynamoDB model whose table the project owns (idempotent)."""
    if model not in _TABLES:
        _TABLES.append(model)


def registered_tables() -> tuple[type[Any], ...]:
    """Every registered model, in registration order."""
    return tuple(_TABLES)

"""Reads within a budget: a Query or Scan, one DynamoDB call per page, that stops when
the items it may evaluate or the calls it may make are used up.

DynamoDB's `Limit` caps the items a call evaluates (before any filter), so a read
that filters can never be asked to walk a whole partition: each page asks for at most
what is left of the budget, and the caller gets the `LastEvaluatedKey` to resume at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from pynamodb.pagination import ResultIterator

__all__ = ["Page", "ReadBudget", "budgeted_pages"]

RawItem = dict[str, Any]


@dataclass
class ReadBudget:
    """What one read may still ask of DynamoDB."""

    calls: int
    items: int

    @classmethod
    def per_read(cls, *, items: int | None = None) -> ReadBudget:
        """DYNAMODB_READ_BUDGET_CALLS calls and DYNAMODB_READ_BUDGET_ITEMS items (or `items`)."""
        return cls(
            calls=settings.DYNAMODB_READ_BUDGET_CALLS,
            items=settings.DYNAMODB_READ_BUDGET_ITEMS if items is None else items,
        )

    @property
    def spent(self) -> bool:
        return self.calls <= 0 or self.items <= 0


@dataclass(frozen=True, slots=True)
class Page:
    items: list[RawItem]  # as DynamoDB returned them, after the filter
    last_evaluated_key: RawItem | None  # where the next page starts; None at the end


def budgeted_pages(
    results: ResultIterator[Any], budget: ReadBudget, *, wanted: Callable[[], int]
) -> Iterator[Page]:
    """The pages of a PynamoDB query or scan, each call evaluating at most `wanted()` items
    (and never more than the budget has left), until the results end or the budget is spent.
    """
    pages = results.page_iter
    while not budget.spent:
        pages.page_size = max(1, min(wanted(), budget.items))
        try:
            raw = next(pages)
        except StopIteration:
            return
        budget.calls -= 1
        budget.items -= raw["ScannedCount"]
        last_key = raw.get("LastEvaluatedKey")
        yield Page(items=raw.get("Items", []), last_evaluated_key=last_key)
        if last_key is None:
            return

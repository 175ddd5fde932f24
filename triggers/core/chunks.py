"""Splitting a sequence into consecutive groups under a size budget (AWS calls' limits)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

__all__ = ["chunks"]

T = TypeVar("T")


def chunks(
    items: Iterable[T], *, size_of: Callable[[T], int], max_size: int, max_count: int | None = None
) -> Iterator[list[T]]:
    """The items in order, in as few consecutive groups as keep each group's total size
    within `max_size` (and its length within `max_count`). An item larger than
    `max_size` on its own still gets a group of its own."""
    group: list[T] = []
    group_size = 0
    for item in items:
        size = size_of(item)
        full = max_count is not None and len(group) == max_count
        if group and (full or group_size + size > max_size):
            yield group
            group, group_size = [], 0
        group.append(item)
        group_size += size
    if group:
        yield group

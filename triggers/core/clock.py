"""Time in one place: always aware UTC, always formatted the same way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

# RFC 3339, UTC, microseconds, "Z": fixed width, so it also sorts as text.
TIMESTAMP_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)

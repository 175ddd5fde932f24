"""Time in one place: always aware UTC, always formatted the same way."""

from __future__ import annotations

from datetime import UTC, datetime

from triggers.constants import TIMESTAMP_FORMAT


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)

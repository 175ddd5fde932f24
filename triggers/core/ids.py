"""Event ids: UUIDv7 (RFC 9562), so an id says when it was made.

A lookup that misses may retry only when the id could belong to an event written a
moment ago (the id index is eventually consistent); the id's own timestamp tells.
Events written before ids were time-ordered carry UUIDv4 ids, which stay valid.
Python gains `uuid.uuid7()` in 3.14; this module can use it then.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta

__all__ = ["EVENT_ID_PATTERN", "event_id_time", "is_event_id", "new_event_id"]

# Lowercase, as the service issues them: version 7 (time-ordered) or 4 (older events).
EVENT_ID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[47][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
_EVENT_ID = re.compile(EVENT_ID_PATTERN)
_RAND_A_BITS = 12
_RAND_B_BITS = 62
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def new_event_id(moment: datetime) -> str:
    """A UUIDv7 whose 48-bit timestamp is `moment` in Unix milliseconds."""
    unix_ms = (moment - _EPOCH) // timedelta(milliseconds=1)
    value = (unix_ms & (2**48 - 1)) << 80
    value |= 0x7 << 76  # version
    value |= secrets.randbits(_RAND_A_BITS) << 64
    value |= 0b10 << 62  # variant
    value |= secrets.randbits(_RAND_B_BITS)
    return str(uuid.UUID(int=value))


def is_event_id(text: str) -> bool:
    return _EVENT_ID.fullmatch(text) is not None


def event_id_time(event_id: str) -> datetime | None:
    """When a UUIDv7 id was made (millisecond precision); None for a UUIDv4 id."""
    value = uuid.UUID(event_id)
    if value.version != 7:
        return None
    return _EPOCH + timedelta(milliseconds=value.int >> 80)

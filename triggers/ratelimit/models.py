"""The shared per-key counters that workers lease rate-limit tokens from.

They live in the idempotency table, beside the idempotency records: both are small,
short-lived, written by the request path and removed by the table's TTL. A counter's
key starts with "~", which no tenant id can (`TENANT_ID_PATTERN`), so it can never be
an idempotency record's `{tenant_id}#{key}`.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from triggers.core.aws import DynamoDBMeta, table_name

__all__ = ["RateLimitWindow", "window_key"]


def window_key(key_hash: str, window_start: int) -> str:
    return f"~rate-limit#{key_hash}#{window_start}"


class RateLimitWindow(Model):
    """How many tokens the workers have leased for one key in one window."""

    class Meta(DynamoDBMeta):
        table_name = table_name("idempotency")

    record_key = UnicodeAttribute(hash_key=True)  # window_key(...)
    granted = NumberAttribute(default=0)
    expires_at = TTLAttribute()  # a window's counter is useless once the window is over

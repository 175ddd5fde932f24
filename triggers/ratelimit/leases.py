"""Leasing tokens from a key's shared counter: one conditional UpdateItem per lease.

The counter of a window never exceeds its allowance: a lease is granted whole or not
at all (`granted + n <= allowance`, checked by DynamoDB atomically), so every worker
of every instance together admits at most the allowance in a window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import UpdateError

from triggers.core.errors import dynamodb_error_code
from triggers.ratelimit.models import RateLimitWindow, window_key

__all__ = ["lease"]

# Counters outlive their window by this much, then DynamoDB's TTL removes them.
_KEEP_AFTER_WINDOW = timedelta(minutes=10)


def lease(
    *,
    key_hash: str,
    window_start: int,
    window_seconds: int,
    tokens: int,
    allowance: int,
    model: type[RateLimitWindow] = RateLimitWindow,
) -> bool:
    """Lease `tokens` of the key's `allowance` for the window; False when fewer are left.

    Raises what PynamoDB raises when DynamoDB cannot be asked (the caller decides).
    """
    record = model(window_key(key_hash, window_start))
    condition = model.granted.does_not_exist() | (model.granted <= allowance - tokens)
    window_end = datetime.fromtimestamp(window_start + window_seconds, tz=UTC)
    try:
        record.update(
            actions=[
                model.granted.add(tokens),
                model.expires_at.set(window_end + _KEEP_AFTER_WINDOW),
            ],
            condition=condition,
        )
    except UpdateError as exc:
        if dynamodb_error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True

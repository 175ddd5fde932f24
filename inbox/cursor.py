"""Opaque, URL-safe, tamper-evident inbox cursors.

A cursor is the position after the last event of a page (its key in the queue and in
the table: inbox.queue.Position), signed with the SECRET_KEY (HMAC, Django's Signer)
and bound to the tenant that received it. Anything forged, truncated or from another
tenant is rejected, never silently treated as "start from the beginning". A cursor of
an earlier release holds only the table key: the event's key in the queue was the same.
"""

from __future__ import annotations

from django.core import signing

from inbox.queue import KEY_PATTERN, Position
from triggers.core.errors import ValidationFailedError

__all__ = ["decode_cursor", "encode_cursor"]

_SALT = "triggers.inbox.cursor.v1"


def _signer() -> signing.Signer:
    return signing.Signer(salt=_SALT, sep=".")


def encode_cursor(*, tenant_id: str, position: Position) -> str:
    payload = {"t": tenant_id, "k": position.created_key}
    if position.visible_key != position.created_key:
        payload["v"] = position.visible_key
    return _signer().sign_object(payload)


def _invalid() -> ValidationFailedError:
    return ValidationFailedError(
        "The cursor is invalid or expired; start again without one.",
        details={"cursor": ["Invalid cursor."]},
    )


def decode_cursor(cursor: str, *, tenant_id: str) -> Position:
    """The position the cursor points after; ValidationFailedError if it is not genuine."""
    try:
        position = _signer().unsign_object(cursor)
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        raise _invalid() from None
    if not isinstance(position, dict) or position.get("t") != tenant_id:
        raise _invalid()
    created_key = position.get("k")
    visible = position.get("v", created_key)
    if not (
        isinstance(created_key, str)
        and isinstance(visible, str)
        and KEY_PATTERN.fullmatch(created_key)
        and KEY_PATTERN.fullmatch(visible)
    ):
        raise _invalid()
    return Position(visible_key=visible, created_key=created_key)

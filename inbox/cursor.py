"""Opaque, URL-safe, tamper-evident inbox cursors.

A cursor is the position after the last event of a page, signed with the
SECRET_KEY (HMAC, Django's Signer) and bound to the tenant that received it.
Anything forged, truncated or from another tenant is rejected, never silently
treated as "start from the beginning".
"""

from __future__ import annotations

import re

from django.core import signing

from triggers.core.errors import ValidationFailedError

__all__ = ["decode_cursor", "encode_cursor"]

_SALT = "triggers.inbox.cursor.v1"
_CREATED_KEY = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#[0-9a-f-]{36}")


def _signer() -> signing.Signer:
    return signing.Signer(salt=_SALT, sep=".")


def encode_cursor(*, tenant_id: str, created_key: str) -> str:
    return _signer().sign_object({"t": tenant_id, "k": created_key})


def _invalid() -> ValidationFailedError:
    return ValidationFailedError(
        "The cursor is invalid or expired; start again without one.",
        details={"cursor": ["Invalid cursor."]},
    )


def decode_cursor(cursor: str, *, tenant_id: str) -> str:
    """The `created_key` the cursor points after; ValidationFailedError if it is not genuine."""
    try:
        position = _signer().unsign_object(cursor)
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        raise _invalid() from None
    if not isinstance(position, dict) or position.get("t") != tenant_id:
        raise _invalid()
    created_key = position.get("k")
    if not isinstance(created_key, str) or not _CREATED_KEY.fullmatch(created_key):
        raise _invalid()
    return created_key

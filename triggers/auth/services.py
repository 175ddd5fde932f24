"""Creating and revoking API keys."""

from __future__ import annotations

import re
import secrets

from triggers.auth.models import ApiKey
from triggers.auth.selectors import api_key_hash
from triggers.clock import utcnow
from triggers.exceptions import NotFoundError, ValidationFailedError

__all__ = ["API_KEY_PREFIX", "TENANT_ID_PATTERN", "api_key_create", "api_key_revoke"]

API_KEY_PREFIX = "trg_"
# Tenant ids become part of index keys ("{tenant}#{source}"): no "#", no spaces.
TENANT_ID_PATTERN = r"[A-Za-z0-9._-]{1,64}"
_TENANT_ID = re.compile(TENANT_ID_PATTERN)


def api_key_create(*, tenant_id: str, name: str) -> tuple[str, ApiKey]:
    """A new key for the tenant. The plaintext is returned once and never stored."""
    if not _TENANT_ID.fullmatch(tenant_id):
        raise ValidationFailedError(
            f"A tenant id is 1-64 characters of A-Z a-z 0-9 . _ - (got {tenant_id!r}).",
            details={"tenant_id": [f"Must match {TENANT_ID_PATTERN}."]},
        )
    raw_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(
        api_key_hash(raw_key),
        tenant_id=tenant_id,
        name=name,
        key_prefix=raw_key[: len(API_KEY_PREFIX) + 4],
        created_at=utcnow(),
    )
    record.save(condition=ApiKey.key_hash.does_not_exist())
    return raw_key, record


def api_key_revoke(*, raw_key: str) -> ApiKey:
    """Revoke a key; requests stop authenticating within API_KEY_CACHE_SECONDS."""
    try:
        record = ApiKey.get(api_key_hash(raw_key), consistent_read=True)
    except ApiKey.DoesNotExist:
        raise NotFoundError("No such API key.") from None
    if record.revoked_at is None:
        record.update(actions=[ApiKey.revoked_at.set(utcnow())])
    return record

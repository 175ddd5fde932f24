"""Creating and revoking API keys."""

from __future__ import annotations

import re
import secrets

from triggers.auth.models import ApiKey
from triggers.auth.selectors import api_key_hash
from triggers.core.clock import utcnow
from triggers.core.errors import NotFoundError, ValidationFailedError

__all__ = [
    "API_KEY_PREFIX",
    "TENANT_ID_PATTERN",
    "api_key_create",
    "api_key_revoke",
    "api_keys_revoke",
]

API_KEY_PREFIX = "trg_"
# Tenant ids become part of index keys ("{tenant}#{source}"): no "#", no spaces.
TENANT_ID_PATTERN = r"[A-Za-z0-9._-]{1,64}"
_TENANT_ID = re.compile(TENANT_ID_PATTERN)
MAX_RATE_LIMIT_PER_SECOND = 100_000.0
MAX_RATE_LIMIT_BURST = 1_000_000


def api_key_create(
    *,
    tenant_id: str,
    name: str,
    rate_limit_per_second: float | None = None,
    rate_limit_burst: int | None = None,
) -> tuple[str, ApiKey]:
    """A new key for the tenant. The plaintext is returned once and never stored.

    Without a rate or burst of its own, the key gets the settings' defaults (read at each
    request, so changing them changes every such key)."""
    if not _TENANT_ID.fullmatch(tenant_id):
        raise ValidationFailedError(
            f"A tenant id is 1-64 characters of A-Z a-z 0-9 . _ - (got {tenant_id!r}).",
            details={"tenant_id": [f"Must match {TENANT_ID_PATTERN}."]},
        )
    if rate_limit_per_second is not None and not (
        0 < rate_limit_per_second <= MAX_RATE_LIMIT_PER_SECOND
    ):
        raise ValidationFailedError(
            f"A rate limit is more than 0 and at most {MAX_RATE_LIMIT_PER_SECOND:g} requests "
            f"a second (got {rate_limit_per_second:g}).",
            details={"rate_limit_per_second": ["Out of range."]},
        )
    if rate_limit_burst is not None and not 1 <= rate_limit_burst <= MAX_RATE_LIMIT_BURST:
        raise ValidationFailedError(
            f"A burst is 1 to {MAX_RATE_LIMIT_BURST} requests (got {rate_limit_burst}).",
            details={"rate_limit_burst": ["Out of range."]},
        )
    raw_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(
        api_key_hash(raw_key),
        tenant_id=tenant_id,
        name=name,
        key_prefix=raw_key[: len(API_KEY_PREFIX) + 4],
        created_at=utcnow(),
        rate_limit_per_second=rate_limit_per_second,
        rate_limit_burst=rate_limit_burst,
    )
    record.save(condition=ApiKey.key_hash.does_not_exist())
    return raw_key, record


def _revoked(record: ApiKey) -> ApiKey:
    if record.revoked_at is None:
        record.update(actions=[ApiKey.revoked_at.set(utcnow())])
    return record


def api_key_revoke(*, raw_key: str) -> ApiKey:
    """Revoke a key; requests stop authenticating within API_KEY_CACHE_SECONDS."""
    try:
        record = ApiKey.get(api_key_hash(raw_key), consistent_read=True)
    except ApiKey.DoesNotExist:
        raise NotFoundError("No such API key.") from None
    return _revoked(record)


def api_keys_revoke(*, tenant_id: str, prefix: str | None = None) -> list[ApiKey]:
    """Revoke the tenant's keys that start with `prefix` (its first characters, as logs
    and `create_api_key` show them: `trg_xxxx`), or all of them without one. Returns
    them (already revoked ones included); effective within API_KEY_CACHE_SECONDS.

    Keys are stored by digest only, so they are found by a Scan of the keys table
    (an operator's command, not a request path)."""
    condition = ApiKey.tenant_id == tenant_id
    if prefix is not None:
        condition &= ApiKey.key_prefix.startswith(prefix[: len(API_KEY_PREFIX) + 4])
    found = [
        record
        for record in ApiKey.scan(condition, consistent_read=True)
        if prefix is None or prefix.startswith(record.key_prefix)
    ]
    return [_revoked(record) for record in found]

"""Who a key belongs to: looked up by digest, cached per process."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final

from django.conf import settings
from django.core.cache import cache, caches

from triggers.auth.models import ApiKey
from triggers.core.identity import ApiKeyIdentity

__all__ = ["API_KEY_PATTERN", "api_key_hash", "api_key_identity", "is_api_key_shaped"]

# What every key the service issues looks like: the prefix, then 32 random bytes as
# URL-safe base64 (43 characters). Anything else is refused without a lookup.
API_KEY_PATTERN: Final = r"trg_[A-Za-z0-9_-]{43}"
_API_KEY = re.compile(API_KEY_PATTERN)
_MISS = "unknown"
API_KEY_MISSES_CACHE: Final = "api-key-misses"  # a cache of settings.CACHES


def is_api_key_shaped(raw_key: str) -> bool:
    return _API_KEY.fullmatch(raw_key) is not None


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def api_key_identity(*, raw_key: str) -> ApiKeyIdentity | None:
    """The identity behind a key (None if unknown).

    Active keys are cached in this process for API_KEY_CACHE_SECONDS (up to
    API_KEY_CACHE_MAX_KEYS of them; past that the cache evicts a third of its entries),
    so a revocation takes effect within that time. Unknown keys are remembered for
    API_KEY_MISS_CACHE_SECONDS in a cache of their own (a flood of made-up keys evicts
    only made-up keys); revoked keys are not cached.
    """
    key_hash = api_key_hash(raw_key)
    cache_key = f"api-key:{key_hash}"
    identity: ApiKeyIdentity | None = cache.get(cache_key)
    if identity is not None:
        return identity
    misses = caches[API_KEY_MISSES_CACHE]
    if misses.get(cache_key) == _MISS:
        return None
    try:
        record = ApiKey.get(key_hash)
    except ApiKey.DoesNotExist:
        if settings.API_KEY_MISS_CACHE_SECONDS:
            misses.set(cache_key, _MISS, timeout=settings.API_KEY_MISS_CACHE_SECONDS)
        return None
    # Keys are never compared as text: they are found by digest. Should the store ever
    # answer with another item, compare digests in constant time, like any secret.
    if not hmac.compare_digest(record.key_hash, key_hash):
        return None
    identity = ApiKeyIdentity(
        tenant_id=record.tenant_id,
        key_hash=key_hash,
        revoked=record.revoked_at is not None,
        rate_limit_per_second=record.rate_limit_per_second,
        rate_limit_burst=None if record.rate_limit_burst is None else int(record.rate_limit_burst),
    )
    if settings.API_KEY_CACHE_SECONDS and not identity.revoked:
        cache.set(cache_key, identity, timeout=settings.API_KEY_CACHE_SECONDS)
    return identity

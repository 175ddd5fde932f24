"""Reads: events by id and API keys. Keyword-only; raise NotFoundError, never return junk."""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from events.models import ApiKey, Event
from observability import metrics
from observability.constants import LOOKUP_GSI
from observability.logging import get_logger
from triggers.clock import utcnow
from triggers.exceptions import NotFoundError

__all__ = ["ApiKeyIdentity", "api_key_hash", "api_key_identity", "event_get"]

logger = get_logger(__name__)

_EVENT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_RETRY_DELAYS_SECONDS = (0.02, 0.05, 0.1, 0.2, 0.4)


@dataclass(frozen=True, slots=True)
class ApiKeyIdentity:
    """Who is calling: DRF's `request.user` for an authenticated request."""

    tenant_id: str
    key_prefix: str
    revoked: bool = False

    @property
    def is_authenticated(self) -> bool:
        return not self.revoked


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def api_key_identity(*, raw_key: str) -> ApiKeyIdentity | None:
    """The identity behind a key (None if unknown); active keys are cached for
    API_KEY_CACHE_SECONDS, so a revocation takes effect within that time."""
    key_hash = api_key_hash(raw_key)
    cache_key = f"api-key:{key_hash}"
    identity: ApiKeyIdentity | None = cache.get(cache_key)
    if identity is not None:
        return identity
    try:
        record = ApiKey.get(key_hash)
    except ApiKey.DoesNotExist:
        return None
    identity = ApiKeyIdentity(
        tenant_id=record.tenant_id,
        key_prefix=record.key_prefix,
        revoked=record.revoked_at is not None,
    )
    if settings.API_KEY_CACHE_SECONDS and not identity.revoked:
        cache.set(cache_key, identity, timeout=settings.API_KEY_CACHE_SECONDS)
    return identity


def _event_by_id(event_id: str) -> Event | None:
    for event in Event.event_id_index.query(event_id, limit=1):
        return event
    return None


def event_get(*, tenant_id: str, event_id: str) -> Event:
    """The tenant's live event with this id.

    Another tenant's event, an expired one and a malformed id are all "not found".
    A miss is retried for up to EVENT_LOOKUP_RETRY_SECONDS, because the id index
    is eventually consistent and a client may read right after it wrote.
    """
    if not _EVENT_ID.fullmatch(event_id):
        raise NotFoundError("Event not found.")
    started = time.monotonic()
    deadline = started + settings.EVENT_LOOKUP_RETRY_SECONDS
    event = _event_by_id(event_id)
    attempts = 1
    for delay in _RETRY_DELAYS_SECONDS:
        if event is not None or time.monotonic() + delay > deadline:
            break
        time.sleep(delay)
        event = _event_by_id(event_id)
        attempts += 1
    metrics.record_lookup(LOOKUP_GSI)
    logger.info(
        "event_lookup",
        event_id=event_id,
        method=LOOKUP_GSI,
        found=event is not None,
        attempts=attempts,
        duration_ms=round((time.monotonic() - started) * 1000, 3),
    )
    if event is None or event.tenant_id != tenant_id or event.expires_at <= utcnow():
        raise NotFoundError("Event not found.")
    return event

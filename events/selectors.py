"""Reads: events by id and API keys. Keyword-only; raise NotFoundError, never return junk."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from pynamodb.exceptions import QueryError

from events.models import ApiKey, Event, EventIdIndex
from observability import metrics
from observability.constants import LOOKUP_GSI, LOOKUP_SCAN
from observability.logging import get_logger
from triggers.clock import utcnow
from triggers.exceptions import NotFoundError

__all__ = [
    "ApiKeyIdentity",
    "api_key_hash",
    "api_key_identity",
    "event_get",
    "event_index_usable",
]

logger = get_logger(__name__)

_EVENT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_RETRY_DELAYS_SECONDS = (0.02, 0.05, 0.1, 0.2, 0.4)
EVENT_ID_INDEX = EventIdIndex.Meta.index_name


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


@dataclass
class _IndexState:
    usable: bool
    checked_at: float


_index_state: _IndexState | None = None
_index_lock = threading.Lock()


def _index_is_active() -> bool:
    description = Event.describe_table()
    for index in description.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] == EVENT_ID_INDEX:
            return bool(index["IndexStatus"] == "ACTIVE" and not index.get("Backfilling"))
    return False


def event_index_usable() -> bool:
    """Whether lookups can use `event-id-index` on the live table.

    Asked of DynamoDB once per process and again every EVENT_INDEX_RECHECK_SECONDS,
    so a table migrated with `migrate_gsi` is picked up without a restart.
    """
    global _index_state  # noqa: PLW0603 - a per-process cache
    now = time.monotonic()
    with _index_lock:
        state = _index_state
        if state is None or now - state.checked_at >= settings.EVENT_INDEX_RECHECK_SECONDS:
            usable = _index_is_active()
            if state is None or state.usable != usable:
                log = logger.info if usable else logger.warning
                log("event_index_checked", index=EVENT_ID_INDEX, usable=usable)
            state = _index_state = _IndexState(usable=usable, checked_at=now)
        return state.usable


def _forget_index() -> None:
    global _index_state  # noqa: PLW0603 - a per-process cache
    with _index_lock:
        _index_state = _IndexState(usable=False, checked_at=time.monotonic())


def _lookup_by_index(event_id: str) -> tuple[Event | None, int]:
    """Query the id index; a miss is retried briefly (the index is eventually consistent)."""
    deadline = time.monotonic() + settings.EVENT_LOOKUP_RETRY_SECONDS
    attempts = 0
    for delay in (0.0, *_RETRY_DELAYS_SECONDS):
        if attempts and time.monotonic() + delay > deadline:
            break
        if delay:
            time.sleep(delay)
        attempts += 1
        for event in Event.event_id_index.query(event_id, limit=1):
            return event, attempts
    return None, attempts


def _lookup_by_scan(event_id: str) -> Event | None:
    """The fallback for a table without the index: reads the whole table, page by page."""
    for event in Event.scan(Event.event_id == event_id, consistent_read=True):
        return event
    return None


def event_get(*, tenant_id: str, event_id: str) -> Event:
    """The tenant's live event with this id.

    Served by `event-id-index`; only when the live table has no usable index (not yet
    migrated) by a Scan. Another tenant's event, an expired one and a malformed id are
    all "not found".
    """
    if not _EVENT_ID.fullmatch(event_id):
        raise NotFoundError("Event not found.")
    started = time.monotonic()
    method, attempts, event = LOOKUP_SCAN, 1, None
    if event_index_usable():
        method = LOOKUP_GSI
        try:
            event, attempts = _lookup_by_index(event_id)
        except QueryError as exc:
            if exc.cause_response_code != "ValidationException":
                raise
            _forget_index()  # the index went away since the last check (a rollback)
            method = LOOKUP_SCAN
    if method == LOOKUP_SCAN:
        event = _lookup_by_scan(event_id)
    metrics.record_lookup(method)
    logger.info(
        "event_lookup",
        event_id=event_id,
        method=method,
        found=event is not None,
        attempts=attempts,
        duration_ms=round((time.monotonic() - started) * 1000, 3),
    )
    if event is None or event.tenant_id != tenant_id or event.expires_at <= utcnow():
        raise NotFoundError("Event not found.")
    return event

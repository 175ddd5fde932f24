"""Lease tokens: what a consumer holds while it processes a leased event.

A token names the event (its key in the table), the lease (`lease_id`, a random
secret the lease wrote on the item) and the delivery it is (the event's delivery count,
which no transition changes while the lease holds), signed with SECRET_KEY (HMAC, Django's Signer)
under a salt that names the tenant. So a token is unguessable (the secret), bound to one
delivery (a new lease writes a new secret) and to the tenant it was given to: another
tenant's token, or a made-up one, fails the signature and is "not found" without a
DynamoDB call. A key rotation keeps outstanding tokens valid, as it does cursors (the old
key stays in SECRET_KEY_FALLBACKS, which Django's Signer accepts: triggers/core/secret_key.py).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.core import signing

from inbox.queue import KEY_PATTERN
from triggers.core.errors import NotFoundError

__all__ = ["LeaseToken", "decode_lease_token", "encode_lease_token", "new_lease_id"]

_SALT = "triggers.inbox.lease.v1"
_LEASE_ID = re.compile(r"[A-Za-z0-9_-]{22}")
# What the API accepts as a token before checking it (the schema's pattern): Django's
# signed object, URL-safe base64 of the lease, ".", a 43-character HMAC.
LEASE_TOKEN_PATTERN = r"^\.?[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$"  # noqa: S105 - a shape
LEASE_TOKEN_MAX_LENGTH = 512


@dataclass(frozen=True, slots=True)
class LeaseToken:
    created_key: str  # the event's range key (its tenant is the caller)
    lease_id: str
    delivery_count: int

    @property
    def event_id(self) -> str:
        return self.created_key.rpartition("#")[2]


def new_lease_id() -> str:
    """A lease's secret: 128 random bits."""
    return secrets.token_urlsafe(16)


def _signer(tenant_id: str) -> signing.Signer:
    return signing.Signer(salt=f"{_SALT}:{tenant_id}", sep=".")


def encode_lease_token(
    *, tenant_id: str, created_key: str, lease_id: str, delivery_count: int
) -> str:
    return _signer(tenant_id).sign_object({"k": created_key, "l": lease_id, "d": delivery_count})


def _not_found() -> NotFoundError:
    return NotFoundError("No such lease: the token is not one this API gave to this API key.")


def decode_lease_token(token: str, *, tenant_id: str) -> LeaseToken:
    """The lease a token names; NotFoundError unless this service signed it for this tenant."""
    try:
        lease = _signer(tenant_id).unsign_object(token)
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        raise _not_found() from None
    if not isinstance(lease, dict):
        raise _not_found()
    created_key, lease_id, count = lease.get("k"), lease.get("l"), lease.get("d")
    if not (
        isinstance(created_key, str)
        and isinstance(lease_id, str)
        and isinstance(count, int)
        and KEY_PATTERN.fullmatch(created_key)
        and _LEASE_ID.fullmatch(lease_id)
    ):
        raise _not_found()
    return LeaseToken(created_key, lease_id, count)

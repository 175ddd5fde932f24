"""Who is calling: the identity authentication puts on `request.user`, which every app
reads (its tenant, its rate limits) without importing the auth app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ApiKeyIdentity", "tenant_of"]


@dataclass(frozen=True, slots=True)
class ApiKeyIdentity:
    """DRF's `request.user` for a request with a valid API key."""

    tenant_id: str
    key_hash: str = ""
    revoked: bool = False
    rate_limit_per_second: float | None = None  # None: the settings' default
    rate_limit_burst: int | None = None

    @property
    def is_authenticated(self) -> bool:
        return not self.revoked


def tenant_of(request: Any) -> str:
    """The authenticated caller's tenant (views behind IsAuthenticated only)."""
    identity = request.user
    assert isinstance(identity, ApiKeyIdentity)  # noqa: S101 - guaranteed by IsAuthenticated
    return identity.tenant_id

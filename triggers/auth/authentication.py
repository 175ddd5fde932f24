"""API-key authentication: `X-API-Key: <key>` or `Authorization: Bearer <key>`.

Keys are looked up by SHA-256 digest; only a short prefix ever reaches a log line.
"""

from __future__ import annotations

from typing import Any

import structlog
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from observability.logging import get_logger
from triggers.auth.selectors import api_key_identity, is_api_key_shaped
from triggers.core.identity import ApiKeyIdentity

logger = get_logger(__name__)

API_KEY_HEADER = "X-API-Key"

_VISIBLE_PREFIX = 8


def mask_api_key(raw_key: str) -> str:
    """What logs may show of a key: its first characters, never enough to use it."""
    return raw_key[:_VISIBLE_PREFIX] + "…" if len(raw_key) > _VISIBLE_PREFIX * 2 else "…"


def presented_api_key(request: Any) -> str | None:
    """The key the caller sent, if any (X-API-Key wins over Authorization)."""
    key: str | None = request.headers.get(API_KEY_HEADER)
    if key is None:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        key = credentials
    return key.strip()


def _refuse(reason: str) -> AuthenticationFailed:
    logger.warning("authentication_failed", reason=reason)
    return AuthenticationFailed("Invalid or revoked API key.")


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[ApiKeyIdentity, None] | None:
        raw_key = presented_api_key(request)
        if raw_key is None:
            logger.warning("authentication_failed", reason="missing_key")
            return None  # IsAuthenticated answers 401
        structlog.contextvars.bind_contextvars(api_key=mask_api_key(raw_key))
        if not is_api_key_shaped(raw_key):
            raise _refuse("malformed_key")  # no key has that shape: no DynamoDB call
        identity = api_key_identity(raw_key=raw_key)
        if identity is None:
            raise _refuse("unknown_key")
        if identity.revoked:
            raise _refuse("revoked_key")
        structlog.contextvars.bind_contextvars(tenant_id=identity.tenant_id)
        logger.debug("authentication_succeeded")
        return identity, None

    def authenticate_header(self, request: Request) -> str:
        # Present, so DRF answers 401 (not 403) when credentials are missing or wrong.
        return 'Bearer realm="triggers"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "triggers.auth.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": API_KEY_HEADER}

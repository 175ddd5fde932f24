"""The API-key table, as a PynamoDB model."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from triggers.core.aws import DynamoDBMeta, table_name

__all__ = ["ApiKey"]


class ApiKey(Model):
    """An API key, stored only as the SHA-256 hex digest of the key."""

    class Meta(DynamoDBMeta):
        table_name = table_name("api-keys")

    key_hash = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    key_prefix = UnicodeAttribute()  # the key's first characters, for humans and logs
    created_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)
    # This key's own rate limit (docs/API.md "Rate limits"); unset: the settings' default.
    rate_limit_per_second = NumberAttribute(null=True)
    rate_limit_burst = NumberAttribute(null=True)

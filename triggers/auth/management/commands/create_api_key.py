"""manage.py create_api_key: a new key for a tenant, printed once as the last line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from triggers.auth.services import TENANT_ID_PATTERN, api_key_create
from triggers.exceptions import ValidationFailedError


class Command(BaseCommand):
    help = (
        "Create an API key for a tenant. The key is shown only once (last line of stdout); "
        "only its SHA-256 digest is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help=f"Tenant id: {TENANT_ID_PATTERN}.")
        parser.add_argument("--name", default="default", help="A label for the key.")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant_id: str = options["tenant"]
        try:
            raw_key, record = api_key_create(tenant_id=tenant_id, name=options["name"])
        except ValidationFailedError as exc:
            raise CommandError(exc.message) from None
        self.stderr.write(
            f"Created API key {record.key_prefix}… for tenant {tenant_id!r} "
            f"(name {record.name!r}). Store it now: it cannot be shown again."
        )
        self.stdout.write(raw_key)

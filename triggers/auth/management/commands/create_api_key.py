"""manage.py create_api_key: a new key for a tenant, printed once as the last line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from triggers.auth.services import TENANT_ID_PATTERN, api_key_create
from triggers.core.errors import ValidationFailedError


class Command(BaseCommand):
    help = (
        "Create an API key for a tenant. The key is shown only once (last line of stdout); "
        "only its SHA-256 digest is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help=f"Tenant id: {TENANT_ID_PATTERN}.")
        parser.add_argument("--name", default="default", help="A label for the key.")
        parser.add_argument(
            "--rate",
            type=float,
            help="This key's rate limit, requests a second (default: RATE_LIMIT_PER_SECOND).",
        )
        parser.add_argument(
            "--burst",
            type=int,
            help="Requests this key may send at once (default: RATE_LIMIT_BURST).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant_id: str = options["tenant"]
        try:
            raw_key, record = api_key_create(
                tenant_id=tenant_id,
                name=options["name"],
                rate_limit_per_second=options["rate"],
                rate_limit_burst=options["burst"],
            )
        except ValidationFailedError as exc:
            raise CommandError(exc.message) from None
        limits = ""
        if record.rate_limit_per_second is not None or record.rate_limit_burst is not None:
            limits = (
                f", rate limit {record.rate_limit_per_second or 'default'}/s, "
                f"burst {record.rate_limit_burst or 'default'}"
            )
        self.stderr.write(
            f"Created API key {record.key_prefix}… for tenant {tenant_id!r} "
            f"(name {record.name!r}{limits}). Store it now: it cannot be shown again."
        )
        self.stdout.write(raw_key)

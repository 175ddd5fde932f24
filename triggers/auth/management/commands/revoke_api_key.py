"""manage.py revoke_api_key: stop a key from authenticating."""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from triggers.auth.services import api_key_revoke
from triggers.core.errors import NotFoundError


class Command(BaseCommand):
    help = (
        "Revoke an API key. Pass the key, or '-' to read it from stdin (keeps it out of "
        "shell history). Takes effect within API_KEY_CACHE_SECONDS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--key", required=True, help="The API key, or '-' for stdin.")

    def handle(self, *args: Any, **options: Any) -> None:
        raw_key: str = options["key"]
        if raw_key == "-":
            raw_key = sys.stdin.readline()
        raw_key = raw_key.strip()
        try:
            record = api_key_revoke(raw_key=raw_key)
        except NotFoundError:
            raise CommandError("No such API key.") from None
        self.stdout.write(
            f"revoke_api_key: {record.key_prefix}… of tenant {record.tenant_id!r} is revoked "
            f"(effective within {settings.API_KEY_CACHE_SECONDS} s)"
        )

"""manage.py revoke_api_key: stop keys from authenticating."""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from triggers.auth.models import ApiKey
from triggers.auth.services import api_key_revoke, api_keys_revoke
from triggers.core.errors import NotFoundError


class Command(BaseCommand):
    help = (
        "Revoke API keys: one by the key itself (or '-' to read it from stdin, which keeps "
        "it out of shell history), a tenant's by the prefix logs show (trg_xxxx), or all "
        "of a tenant's. Takes effect within API_KEY_CACHE_SECONDS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--key", help="The API key, or '-' for stdin.")
        which.add_argument("--prefix", help="The key's first characters (with --tenant).")
        which.add_argument("--all", action="store_true", help="Every key (with --tenant).")
        parser.add_argument("--tenant", help="The tenant whose keys --prefix/--all revoke.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["key"] is not None:
            self._say([self._by_key(options["key"])])
            return
        tenant: str | None = options["tenant"]
        if tenant is None:
            raise CommandError("--prefix and --all need --tenant: whose keys to revoke.")
        prefix: str | None = options["prefix"]
        if prefix is not None and len(prefix) < len("trg_xxxx"):
            raise CommandError("Give the prefix as logs show it: at least trg_ and 4 more.")
        revoked = api_keys_revoke(tenant_id=tenant, prefix=prefix)
        if not revoked:
            raise CommandError(f"No key of tenant {tenant!r} matches.")
        self._say(revoked)

    def _by_key(self, raw_key: str) -> ApiKey:
        if raw_key == "-":
            raw_key = sys.stdin.readline()
        try:
            return api_key_revoke(raw_key=raw_key.strip())
        except NotFoundError:
            raise CommandError("No such API key.") from None

    def _say(self, records: list[ApiKey]) -> None:
        for record in records:
            self.stdout.write(
                f"revoke_api_key: {record.key_prefix}… ({record.name!r}) of tenant "
                f"{record.tenant_id!r} is revoked"
            )
        self.stdout.write(
            f"revoke_api_key: {len(records)} key(s), effective within "
            f"{settings.API_KEY_CACHE_SECONDS} s"
        )

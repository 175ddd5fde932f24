"""manage.py create_tables: create every table, its GSIs and TTL; safe to re-run."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.tables import (
    TableCommandError,
    declared_indexes,
    ensure_ttl,
    table_state,
    ttl_attribute_name,
)
from triggers.core.aws import aws_client
from triggers.core.tables import registered_tables


class Command(BaseCommand):
    help = (
        "Create the events, api-keys and idempotency tables with their GSIs and TTL. "
        "Idempotent: existing tables are left as they are."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--wait", action="store_true", help="Wait until new tables are ACTIVE.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be created; change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        client = aws_client("dynamodb")
        created = existing = 0
        for model in registered_tables():
            state = self._state(model, client)
            if state.exists:
                existing += 1
                self.stdout.write(f"{state.name}: exists ({state.status})")
                for index in state.missing_indexes(model):
                    self.stdout.write(
                        self.style.WARNING(
                            f"{state.name}: index {index} is missing; "
                            f"add it with `manage.py migrate_gsi --index {index}`"
                        )
                    )
            elif options["dry_run"]:
                created += 1
                indexes = ", ".join(declared_indexes(model)) or "no indexes"
                self.stdout.write(f"{state.name}: would create ({indexes})")
                continue
            else:
                created += 1
                model.create_table(wait=options["wait"], ignore_update_ttl_errors=True)
                self.stdout.write(f"{state.name}: created")
                state = self._state(model, client)

            self._ensure_ttl(model, state.status, dry_run=options["dry_run"], client=client)

        verb = "would create" if options["dry_run"] else "created"
        self.stdout.write(
            f"create_tables: {created} {verb}, {existing} already existed"
            + (" (dry run)" if options["dry_run"] else "")
        )

    def _state(self, model: Any, client: Any) -> Any:
        try:
            return table_state(client, model.Meta.table_name, region=settings.AWS_REGION)
        except TableCommandError as exc:
            raise CommandError(str(exc)) from None

    def _ensure_ttl(self, model: Any, status: str | None, *, dry_run: bool, client: Any) -> None:
        name, attr = model.Meta.table_name, ttl_attribute_name(model)
        if attr is None or dry_run:
            return
        if status != "ACTIVE":
            self.stdout.write(f"{name}: not ACTIVE yet; TTL is enabled on a re-run or with --wait")
            return
        if ensure_ttl(model, client=client):
            self.stdout.write(f"{name}: TTL enabled on {attr}")

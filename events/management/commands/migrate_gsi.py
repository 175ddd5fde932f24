"""manage.py migrate_gsi: add a declared GSI to the live events table, watch it build, undo it."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.gsi import (
    IndexProgress,
    backfill_inbox_filter_key,
    create_index_request,
    delete_index_request,
    existing_table,
    wait_for_index,
)
from events.models import INBOX_FILTER_KEYS, Event, EventIdIndex
from events.tables import IndexState, TableCommandError, TableState, declared_index
from triggers.core.aws import aws_client


class Command(BaseCommand):
    help = (
        "Bring a global secondary index declared on the Event model to the live table: "
        "create it if missing (attribute definitions merged, throughput matched; for the "
        "per-filter inbox indexes, after setting their key on older pending events), wait "
        "until it is ACTIVE, or remove it with --rollback. Idempotent; safe as an Elastic "
        "Beanstalk leader_only command."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--table-name", help="Default: the events table of TABLE_PREFIX.")
        parser.add_argument("--region", help="Default: AWS_REGION.")
        parser.add_argument("--index", default=EventIdIndex.Meta.index_name)
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the UpdateTable request; change nothing."
        )
        parser.add_argument("--rollback", action="store_true", help="Delete the index instead.")
        parser.add_argument("--yes", action="store_true", help="Do not ask before --rollback.")
        parser.add_argument(
            "--wait",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="Wait until DynamoDB finishes (default); --no-wait returns at once.",
        )
        parser.add_argument("--timeout", type=float, default=1800.0, help="Seconds to wait.")
        parser.add_argument(
            "--poll-interval", type=float, default=5.0, help="Seconds between progress lines."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = self._migrate(options)
        except TableCommandError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"migrate_gsi: {summary}")

    def _migrate(self, options: dict[str, Any]) -> str:
        region: str = options["region"] or settings.AWS_REGION
        target = _Target(
            client=aws_client("dynamodb", region=region),
            table=options["table_name"] or Event.Meta.table_name,
            index=options["index"],
            region=region,
        )
        declared_index(Event, target.index)  # fail early on a typo
        state = existing_table(target.client, target.table, region=region)
        live = state.indexes.get(target.index)
        if options["rollback"]:
            return self._rollback(target, live, options)
        if live is None:
            return self._create(target, state, options)
        return self._existing(target, live, options)

    def _existing(self, target: _Target, live: IndexState, options: dict[str, Any]) -> str:
        where = f"{target.index} on {target.table}"
        status = live.status
        if live.serves_reads:
            return f"{where} is already present and ACTIVE; nothing to do"
        if status == "DELETING":
            raise TableCommandError(f"{where} is being deleted; re-run once it is gone.")
        if options["dry_run"] or not options["wait"]:
            return f"{where} is {status}; not waiting"
        self.stdout.write(f"{where} is {status}; waiting")
        return self._wait(target, options, until_gone=False)

    def _create(self, target: _Target, state: TableState, options: dict[str, Any]) -> str:
        busy = state.indexes_in_flux(other_than=target.index)
        if busy:
            raise TableCommandError(
                f"Another index on {target.table} is changing: {', '.join(busy)}. DynamoDB "
                "allows one index change at a time; re-run when it is ACTIVE."
            )
        request = create_index_request(Event, state, target.index)
        self._backfill_keys(target, dry_run=options["dry_run"])
        if options["dry_run"]:
            self.stdout.write(json.dumps(request, indent=2))
            return f"would create {target.index} on {target.table} (dry run)"
        target.client.update_table(**request)
        self.stdout.write(f"Creating {target.index} on {target.table} ({target.region})")
        if not options["wait"]:
            return f"{target.index} on {target.table} is being created; not waiting"
        return self._wait(target, options, until_gone=False)

    def _backfill_keys(self, target: _Target, *, dry_run: bool) -> None:
        """The per-filter inbox indexes need their key on older pending events first."""
        if target.index not in INBOX_FILTER_KEYS:
            return
        key_attribute = INBOX_FILTER_KEYS[target.index][0]
        verb = "would set" if dry_run else "set"

        def report(done: int) -> None:
            self.stdout.write(f"{key_attribute}: {verb} on {done} pending events so far")

        done = backfill_inbox_filter_key(
            target.client, table=target.table, index=target.index, dry_run=dry_run, report=report
        )
        self.stdout.write(f"{key_attribute}: {verb} on {done} pending events that lacked it")

    def _rollback(self, target: _Target, live: IndexState | None, options: dict[str, Any]) -> str:
        if live is None:
            return f"{target.table} has no {target.index}; nothing to roll back"
        request = delete_index_request(target.table, target.index)
        if options["dry_run"]:
            self.stdout.write(json.dumps(request, indent=2))
            return f"would delete {target.index} from {target.table} (dry run)"
        if not options["yes"]:
            self._confirm(
                f"Delete {target.index} from {target.table} in {target.region}? "
                "Lookups fall back to Scan."
            )
        target.client.update_table(**request)
        self.stdout.write(f"Deleting {target.index} from {target.table}")
        if not options["wait"]:
            return f"{target.index} on {target.table} is being deleted; not waiting"
        return self._wait(target, options, until_gone=True)

    def _confirm(self, question: str) -> None:
        if not sys.stdin.isatty():
            raise TableCommandError("--rollback deletes the index: pass --yes to confirm.")
        if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
            raise TableCommandError("Rollback cancelled.")

    def _wait(self, target: _Target, options: dict[str, Any], *, until_gone: bool) -> str:
        def report(progress: IndexProgress) -> None:
            self.stdout.write(progress.line(target.index))

        final = wait_for_index(
            target.client,
            table=target.table,
            index=target.index,
            region=target.region,
            until_gone=until_gone,
            timeout=options["timeout"],
            poll_seconds=options["poll_interval"],
            report=report,
        )
        outcome = "removed from" if until_gone else "ACTIVE on"
        return f"{target.index} {outcome} {target.table} after {final.elapsed_seconds:.1f}s"


@dataclass(frozen=True)
class _Target:
    client: Any
    table: str
    index: str
    region: str

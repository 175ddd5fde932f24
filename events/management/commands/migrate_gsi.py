"""manage.py migrate_gsi: bring one GSI of the live events table to what the model
declares (add it, rebuild it with a new projection, or remove one no longer declared),
and watch DynamoDB do it."""

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
    backfill_queue_key,
    create_index_request,
    delete_index_request,
    existing_table,
    wait_for_index,
)
from events.models import LEGACY_INBOX_INDEX, Event, EventIdIndex, QueueIndex
from events.tables import (
    IndexState,
    TableCommandError,
    TableState,
    declared_index,
    declared_indexes,
    declared_projection,
    same_projection,
)
from triggers.core.aws import aws_client


class Command(BaseCommand):
    help = (
        "Bring one global secondary index of the live events table to what the Event model "
        "declares: create it if missing (attribute definitions merged, throughput matched; "
        "for queue-index, after setting its key on older pending events), rebuild it with "
        "--rebuild when its projection changed, wait until it is ACTIVE; or remove it with "
        "--rollback (also an index the model no longer declares). --plan lists what the "
        "table needs. Idempotent; safe as an Elastic Beanstalk leader_only command."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--table-name", help="Default: the events table of TABLE_PREFIX.")
        parser.add_argument("--region", help="Default: AWS_REGION.")
        parser.add_argument("--index", default=EventIdIndex.Meta.index_name)
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the UpdateTable request; change nothing."
        )
        parser.add_argument("--rollback", action="store_true", help="Delete the index instead.")
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="Delete and create again an index whose declared projection changed.",
        )
        parser.add_argument(
            "--plan", action="store_true", help="List the commands the table needs; change nothing."
        )
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
        state = existing_table(target.client, target.table, region=region)
        if options["plan"]:
            return self._plan(target, state)
        live = state.indexes.get(target.index)
        if options["rollback"]:
            return self._rollback(target, live, options)
        declared_index(Event, target.index)  # fail early on a typo
        if live is None:
            return self._create(target, state, options)
        return self._existing(target, state, live, options)

    def _plan(self, target: _Target, state: TableState) -> str:
        """Every step the live table needs, in the order to run them."""
        command = "manage.py migrate_gsi"
        steps = [f"{command} --index {name}" for name in state.missing_indexes(Event)]
        steps += [
            f"{command} --index {name} --rebuild" for name in state.reprojected_indexes(Event)
        ]
        steps += [
            f"{command} --index {name} --rollback"
            for name in sorted(state.undeclared_indexes(Event))
        ]
        for step in steps:
            self.stdout.write(step)
        if not steps:
            return f"{target.table} has every index as declared; nothing to do"
        return f"{target.table} needs {len(steps)} step(s), one at a time, in this order"

    def _existing(
        self, target: _Target, state: TableState, live: IndexState, options: dict[str, Any]
    ) -> str:
        where = f"{target.index} on {target.table}"
        status = live.status
        declared = declared_projection(Event, target.index)
        if live.serves_reads and not same_projection(live.projection, declared):
            if options["rebuild"]:
                return self._rebuild(target, state, options)
            raise TableCommandError(
                f"{where} projects {live.projection.get('ProjectionType')} where the model "
                f"declares {declared['ProjectionType']}. DynamoDB cannot change a projection: "
                f"rebuild it with --rebuild (deletes it, then creates it as declared; "
                f"{_REBUILD_EFFECT.get(target.index, 'its reads take their fallback meanwhile')})."
            )
        if live.serves_reads:
            if target.index == QueueIndex.Meta.index_name:
                # events an instance of the previous release wrote since the last run
                self._backfill_keys(target, dry_run=options["dry_run"])
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

    def _rebuild(self, target: _Target, state: TableState, options: dict[str, Any]) -> str:
        if options["dry_run"]:
            self.stdout.write(json.dumps(delete_index_request(target.table, target.index)))
            self.stdout.write(json.dumps(create_index_request(Event, state, target.index)))
            return f"would rebuild {target.index} on {target.table} (dry run)"
        if not options["wait"]:
            raise TableCommandError(
                "--rebuild waits for the delete before it creates: drop --no-wait."
            )
        if not options["yes"]:
            self._confirm(f"Delete {target.index} from {target.table} and create it again?")
        target.client.update_table(**delete_index_request(target.table, target.index))
        self.stdout.write(f"Deleting {target.index} from {target.table} to rebuild it")
        self._wait(target, options, until_gone=True)
        state = existing_table(target.client, target.table, region=target.region)
        return self._create(target, state, options)

    def _backfill_keys(self, target: _Target, *, dry_run: bool) -> None:
        """queue-index needs its key on older pending events first."""
        if target.index != QueueIndex.Meta.index_name:
            return
        verb = "would set" if dry_run else "set"

        def report(done: int) -> None:
            self.stdout.write(f"visible_key: {verb} on {done} queued events so far")

        live = existing_table(target.client, target.table, region=target.region).indexes
        done = backfill_queue_key(
            target.client,
            table=target.table,
            index=target.index,
            dry_run=dry_run,
            report=report,
            scan_index=LEGACY_INBOX_INDEX if LEGACY_INBOX_INDEX in live else None,
        )
        self.stdout.write(f"visible_key: {verb} on {done} queued events that lacked it")

    def _rollback(self, target: _Target, live: IndexState | None, options: dict[str, Any]) -> str:
        if live is None:
            return f"{target.table} has no {target.index}; nothing to roll back"
        request = delete_index_request(target.table, target.index)
        if options["dry_run"]:
            self.stdout.write(json.dumps(request, indent=2))
            return f"would delete {target.index} from {target.table} (dry run)"
        if not options["yes"]:
            effect = (
                _REBUILD_EFFECT.get(target.index, "its reads take their fallback")
                if target.index in declared_indexes(Event)
                else "the model no longer declares it"
            )
            self._confirm(
                f"Delete {target.index} from {target.table} in {target.region}? ({effect})"
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


# What reads do while a declared index is gone (a rollback, or a rebuild's delete).
_REBUILD_EFFECT = {
    EventIdIndex.Meta.index_name: (
        "lookups of ids that do not give their key (UUIDv4, and UUIDv7 ids of events "
        "written before keys were the id's own millisecond) Scan meanwhile"
    ),
    QueueIndex.Meta.index_name: "leases and inbox pages read the table partition meanwhile",
}


@dataclass(frozen=True)
class _Target:
    client: Any
    table: str
    index: str
    region: str

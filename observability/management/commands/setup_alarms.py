"""manage.py setup_alarms: create or update the CloudWatch alarms (idempotent)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from observability.alarms import alarm_definitions, alarm_prefix
from observability.constants import namespace
from observability.management.stage import required_stage
from observability.spec import OLDEST_PENDING_AGE_MAX_SECONDS
from triggers.core.aws import aws_client


class Command(BaseCommand):
    help = (
        "Create or update the alarms of observability/spec.py (p95 latency, success rate, "
        "error rate per endpoint; rate-limit refusals; the backlog's age; dead letters) and "
        "remove alarms of this stage that the spec no longer has."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--sns-topic-arn", help="Notify this SNS topic on ALARM and OK.")
        target.add_argument(
            "--create-topic", metavar="NAME", help="Create (or reuse) an SNS topic to notify."
        )
        parser.add_argument("--region", help="Default: AWS_REGION.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print every alarm; change nothing."
        )
        parser.add_argument(
            "--backlog-age",
            type=float,
            default=OLDEST_PENDING_AGE_MAX_SECONDS,
            metavar="SECONDS",
            help=(
                "Alarm when the oldest event a lease or inbox page returns is older "
                f"(default {OLDEST_PENDING_AGE_MAX_SECONDS} s)."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        region = options["region"] or settings.AWS_REGION
        dry_run: bool = options["dry_run"]
        actions = self._actions(options, region=region, dry_run=dry_run)
        stage = required_stage()
        if options["backlog_age"] <= 0:
            raise CommandError("--backlog-age must be a positive number of seconds.")
        alarms = alarm_definitions(
            namespace=namespace(stage),
            stage=stage,
            actions=actions,
            backlog_age_seconds=options["backlog_age"],
        )
        wanted = {alarm["AlarmName"] for alarm in alarms}

        cloudwatch = aws_client("cloudwatch", region=region)
        stale = sorted(self._existing(cloudwatch, alarm_prefix(stage)) - wanted)
        if dry_run:
            for alarm in alarms:
                self.stdout.write(json.dumps(alarm, indent=2, sort_keys=True))
            for name in stale:
                self.stdout.write(f"would delete {name} (no longer in the spec)")
        else:
            for alarm in alarms:
                cloudwatch.put_metric_alarm(**alarm)
            if stale:
                cloudwatch.delete_alarms(AlarmNames=stale)
        verb = "would put" if dry_run else "put"
        target = ", ".join(actions) or "no notification target"
        self.stdout.write(
            f"setup_alarms: {verb} {len(alarms)} alarms, "
            f"{'would delete' if dry_run else 'deleted'} {len(stale)}; actions: {target}"
            + (" (dry run)" if dry_run else "")
        )

    def _actions(self, options: dict[str, Any], *, region: str, dry_run: bool) -> list[str]:
        if options["sns_topic_arn"]:
            arn: str = options["sns_topic_arn"]
            if not arn.startswith("arn:"):
                raise CommandError(f"--sns-topic-arn must be an ARN, got {arn!r}.")
            return [arn]
        topic: str | None = options["create_topic"]
        if not topic:
            return []
        if dry_run:
            return [f"arn:aws:sns:{region}:<account>:{topic}"]
        created = aws_client("sns", region=region).create_topic(Name=topic)  # idempotent
        return [str(created["TopicArn"])]

    @staticmethod
    def _existing(cloudwatch: Any, prefix: str) -> set[str]:
        names: set[str] = set()
        for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix):
            names.update(alarm["AlarmName"] for alarm in page["MetricAlarms"])
        return names

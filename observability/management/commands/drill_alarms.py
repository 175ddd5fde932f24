"""manage.py drill_alarms: prove the paging path by driving each alarm to ALARM and back."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from observability.alarms import alarm_prefix
from observability.management.stage import required_stage
from triggers.core.aws import aws_client

_REASON = "Paging drill: manage.py drill_alarms (not a real incident)"


class Command(BaseCommand):
    help = (
        "A paging drill: check that every alarm of this stage notifies SNS topics that "
        "exist, then set each alarm to ALARM and back to OK (SetAlarmState), so its "
        "topic's subscribers receive both notifications. Pages people: needs --yes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--alarm", action="append", help="Only this alarm (repeatable). Default: all."
        )
        parser.add_argument("--region", help="Default: AWS_REGION.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the alarms and topics; notify nobody."
        )
        parser.add_argument("--yes", action="store_true", help="Yes, page the on-call.")

    def handle(self, *args: Any, **options: Any) -> None:
        region = options["region"] or settings.AWS_REGION
        cloudwatch = aws_client("cloudwatch", region=region)
        alarms = self._alarms(cloudwatch, options["alarm"])
        topics = sorted({arn for alarm in alarms for arn in _actions(alarm)})
        self._check_topics(aws_client("sns", region=region), alarms)
        if options["dry_run"]:
            for alarm in alarms:
                self.stdout.write(f"would drill {alarm['AlarmName']} ({alarm['StateValue']})")
            self.stdout.write(
                f"drill_alarms: would drive {len(alarms)} alarms to ALARM and back; "
                f"topics: {', '.join(topics)} (dry run)"
            )
            return
        if not options["yes"]:
            raise CommandError(
                f"This notifies everyone subscribed to {', '.join(topics)}: pass --yes."
            )
        for alarm in alarms:
            name = alarm["AlarmName"]
            for state in ("ALARM", "OK"):
                cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=_REASON)
                now = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
                if now["StateValue"] != state:
                    raise CommandError(f"{name} did not go to {state} (it is {now['StateValue']}).")
            self.stdout.write(f"{name}: ALARM, then OK")
        self.stdout.write(
            f"drill_alarms: {len(alarms)} alarms went to ALARM and back to OK; "
            f"notified: {', '.join(topics)}"
        )

    def _alarms(self, cloudwatch: Any, names: list[str] | None) -> list[dict[str, Any]]:
        stage = required_stage()
        prefix = alarm_prefix(stage)
        pages = cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix)
        alarms = [alarm for page in pages for alarm in page["MetricAlarms"]]
        if names:
            missing = sorted(set(names) - {a["AlarmName"] for a in alarms})
            if missing:
                raise CommandError(f"No such alarm of stage {stage}: {missing}")
            alarms = [a for a in alarms if a["AlarmName"] in names]
        if not alarms:
            raise CommandError(f"No alarms named {prefix}*: run setup_alarms first.")
        return alarms

    @staticmethod
    def _check_topics(sns: Any, alarms: list[dict[str, Any]]) -> None:
        for alarm in alarms:
            actions = sorted(set(_actions(alarm)))
            if not actions:
                raise CommandError(
                    f"{alarm['AlarmName']} notifies nobody: run setup_alarms --create-topic NAME."
                )
            for arn in actions:
                try:
                    sns.get_topic_attributes(TopicArn=arn)
                except ClientError as exc:
                    code = exc.response.get("Error", {}).get("Code", "")
                    raise CommandError(
                        f"{alarm['AlarmName']} notifies {arn}, which cannot be used ({code})."
                    ) from None


def _actions(alarm: dict[str, Any]) -> list[str]:
    return [*alarm.get("AlarmActions", []), *alarm.get("OKActions", [])]

"""manage.py setup_dashboard: create or update the CloudWatch dashboard (idempotent)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from observability.constants import namespace
from observability.dashboard import dashboard_body, default_dashboard_name
from observability.management.stage import required_stage
from triggers.core.aws import aws_client


class Command(BaseCommand):
    help = (
        "Create or update the Triggers API CloudWatch dashboard from observability/spec.py. "
        "Re-running updates it in place."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dashboard-name", help="Default: TriggersAPI-{STAGE}.")
        parser.add_argument("--region", help="Default: AWS_REGION.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the dashboard JSON; change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        region = options["region"] or settings.AWS_REGION
        stage = required_stage()
        name = options["dashboard_name"] or default_dashboard_name(stage)
        body = dashboard_body(namespace=namespace(stage), region=region)
        widgets = len(body["widgets"])
        if options["dry_run"]:
            self.stdout.write(json.dumps(body, indent=2))
            self.stdout.write(
                f"setup_dashboard: would put {name} ({widgets} widgets) in {region} (dry run)"
            )
            return
        client = aws_client("cloudwatch", region=region)
        response = client.put_dashboard(DashboardName=name, DashboardBody=json.dumps(body))
        problems = response.get("DashboardValidationMessages", [])
        for problem in problems:
            self.stderr.write(f"{problem.get('DataPath', '')}: {problem.get('Message', '')}")
        if problems:
            raise CommandError(f"CloudWatch reported {len(problems)} problems with {name}.")
        self.stdout.write(f"setup_dashboard: {name} is up to date ({widgets} widgets, {region})")

"""manage.py rotate_secret_key: rotate DJANGO_SECRET_KEY in two steps, nothing invalidated."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from triggers.core.aws import aws_client
from triggers.core.secret_key import RotationError, Secrets, Stage, Write, promote, stage

_NEXT = {
    Stage.SETTLED: "no rotation under way",
    Stage.STAGED: "now refresh every instance, then run `rotate_secret_key promote`",
    Stage.PROMOTED: "run `rotate_secret_key promote` again to finish",
}


class Command(BaseCommand):
    help = (
        "Rotate the key that signs inbox cursors and lease tokens, kept in the Secrets "
        "Manager secrets <TABLE_PREFIX>/django-secret-key and "
        "<TABLE_PREFIX>/django-secret-key-fallbacks. `stage` makes every instance accept a "
        "new key, `promote` makes it the key they sign with; refresh every instance after "
        "each (docs/DEPLOYMENT.md, 'Rotating the secret key'). `status` says where a "
        "rotation stands. Re-running a step is safe; no key is ever printed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("step", choices=("status", "stage", "promote"))
        parser.add_argument("--region", help="Default: AWS_REGION.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be written; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        region = options["region"] or settings.AWS_REGION
        client = aws_client("secretsmanager", region=region)
        secrets = Secrets(client, table_prefix=settings.TABLE_PREFIX)
        try:
            keys = secrets.read()
            writes: list[Write] = []
            if options["step"] == "stage":
                writes = stage(keys, new_key=secrets.new_key())
            elif options["step"] == "promote":
                writes = promote(keys)
            for write in writes:
                self.stdout.write(f"rotate_secret_key: put {secrets.names[write.which]}")
                if not options["dry_run"]:
                    secrets.apply(write)
                keys = write.applied_to(keys)
        except RotationError as error:
            raise CommandError(str(error)) from None
        except ClientError as error:
            raise CommandError(_explained(error, secrets.names.values(), region)) from None
        state = "would be" if options["dry_run"] else "is"
        done = "" if writes or options["step"] == "status" else " (unchanged)"
        self.stdout.write(
            f"rotate_secret_key: {settings.TABLE_PREFIX} {state} {keys.stage.value}{done}, "
            f"{len(keys.fallbacks)} fallback key(s), {region}: {_NEXT[keys.stage]}"
        )


def _explained(error: ClientError, names: Iterable[str], region: str) -> str:
    code = error.response.get("Error", {}).get("Code", "")
    secrets = " and ".join(names)
    if code == "ResourceNotFoundException":
        return (
            f"No secrets {secrets} in {region}: is TABLE_PREFIX the stack's TablePrefix, "
            "and AWS_REGION its region?"
        )
    if code in ("AccessDeniedException", "AccessDenied"):
        return f"Not allowed to read and write {secrets}: run as the operator role."
    return f"Secrets Manager refused ({code}): {error.response.get('Error', {}).get('Message')}"

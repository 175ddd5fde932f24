"""A record of every AWS call the process makes, for the IAM policy check.

Installed by devstack.settings (a deployment never runs it). With AWS_CALL_RECORD=<file>
(the test suite sets it), each call appends one JSON line to the file: which role made
it, the IAM action it needs and the resource it touches:

    {"role": "web", "stage": "Test", "action": "dynamodb:Query",
     "table": "triggers-test-events", "index": "inbox-index"}

The role is `web` in the server (gunicorn), `command:<name>` in `manage.py <name>` (or
inside `recording_as`, for a command run in-process), and `test` for anything else the
test process does itself. deploy/iam.py checks the lines against the policies in
deploy/iam/: the web tier's policy must allow exactly what `web` did, the operator's
exactly what the commands did.

One call can need several actions: a TransactWriteItems is authorised item by item
(`dynamodb:PutItem` for a Put, ...), a BatchWriteItem table by table.
"""

from __future__ import annotations

import contextvars
import functools
import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from pynamodb.signals import pre_dynamodb_send

from triggers.core.aws import on_each_new_client, setup_each_client

_role: contextvars.ContextVar[str | None] = contextvars.ContextVar("aws_call_role", default=None)
_lock = threading.Lock()
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


@functools.cache
def _process_role() -> str:
    program = Path(sys.argv[0]).name if sys.argv else ""
    if program == "manage.py" and len(sys.argv) > 1:
        return f"command:{sys.argv[1]}"
    return "web" if program == "gunicorn" else "test"


@contextmanager
def recording_as(role: str) -> Iterator[None]:
    """Attribute the calls made inside to `role` (e.g. `command:setup_alarms`)."""
    token = _role.set(role)
    try:
        yield
    finally:
        _role.reset(token)


def _names(service: str, operation: str, params: dict[str, Any]) -> list[str | None]:
    """The named resources (dashboard, alarm, topic, secret) a call acts on."""
    if service == "cloudwatch" and operation == "DeleteAlarms":
        return list(params.get("AlarmNames", []))
    if service == "cloudwatch":
        return [params.get("DashboardName") or params.get("AlarmName")]
    if service == "sns":
        return [params.get("Name") or str(params.get("TopicArn", "")).rsplit(":", 1)[-1] or None]
    if service == "secretsmanager":
        return [params.get("SecretId")]
    return [None]


def needed(service: str, operation: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The IAM actions one call needs, each with what it acts on: a table (and index), a
    metric namespace, or a named dashboard, alarm, topic or secret."""
    if service == "dynamodb" and operation in ("TransactWriteItems", "TransactGetItems"):
        return [
            {"action": f"dynamodb:{_TRANSACT_ACTIONS[kind]}", "table": body["TableName"]}
            for item in params.get("TransactItems", [])
            for kind, body in item.items()
        ]
    if service == "dynamodb" and operation in ("BatchWriteItem", "BatchGetItem"):
        return [
            {"action": f"dynamodb:{operation}", "table": table}
            for table in params.get("RequestItems", {})
        ]
    if service == "dynamodb":
        return [
            {
                "action": f"dynamodb:{operation}",
                "table": params.get("TableName"),
                "index": params.get("IndexName"),
            }
        ]
    if operation == "PutMetricData":
        return [{"action": "cloudwatch:PutMetricData", "namespace": params.get("Namespace")}]
    return [
        {"action": f"{service}:{operation}", "name": name}
        for name in _names(service, operation, params)
    ]


def _record(params: dict[str, Any], model: Any, **_: Any) -> None:
    service = model.service_model.service_name
    role = _role.get() or _process_role()
    lines = [
        json.dumps({"role": role, "stage": settings.STAGE, **need}) + "\n"
        for need in needed(service, model.name, params)
    ]
    with _lock, Path(settings.AWS_CALL_RECORD).open("a", encoding="utf-8") as record:
        record.write("".join(lines))  # one write per call: processes append whole lines


def instrument(events: Any) -> None:
    """Record every call made through a botocore client's event system."""
    events.register("before-parameter-build", _record, unique_id="triggers-aws-call-record")


def connect() -> None:
    """Called once from DevstackConfig.ready(): records nothing unless asked to."""
    if settings.AWS_CALL_RECORD:
        pre_dynamodb_send.connect(on_each_new_client(instrument), weak=False)  # PynamoDB's
        setup_each_client(instrument)  # triggers.core.aws.aws_client's

"""Management commands against DynamoDB Local, run in-process with call_command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from devstack.localstack import ROOT
from devstack.testing import run_command
from events.models import Event
from events.tables import table_state
from triggers.core.aws import aws_client
from triggers.core.tables import registered_tables

pytestmark = pytest.mark.integration


def test_every_app_registers_its_tables() -> None:
    names = {model.Meta.table_name for model in registered_tables()}
    assert names == {f"triggers-test-{name}" for name in ("events", "api-keys", "idempotency")}


def test_create_tables_is_idempotent(tables: str) -> None:
    output = run_command("create_tables")
    assert output.strip().splitlines()[-1] == (
        f"create_tables: 0 created, {len(registered_tables())} already existed"
    )
    for model in registered_tables():
        state = table_state(aws_client("dynamodb"), model.Meta.table_name, region="us-east-1")
        assert state.status == "ACTIVE"
        assert state.missing_indexes(model) == []


def test_tables_have_the_declared_keys_indexes_and_ttl(tables: str) -> None:
    client = aws_client("dynamodb")
    events = client.describe_table(TableName="triggers-test-events")["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in events["KeySchema"]} == {
        "tenant_id": "HASH",
        "created_key": "RANGE",
    }
    indexes = {i["IndexName"]: i for i in events["GlobalSecondaryIndexes"]}
    assert indexes["event-id-index"]["KeySchema"] == [
        {"AttributeName": "event_id", "KeyType": "HASH"}
    ]
    assert indexes["queue-index"]["KeySchema"] == [
        {"AttributeName": "inbox_tenant", "KeyType": "HASH"},
        {"AttributeName": "visible_key", "KeyType": "RANGE"},
    ]
    assert set(indexes) == {"event-id-index", "queue-index"}
    assert indexes["event-id-index"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert indexes["queue-index"]["Projection"] == {"ProjectionType": "ALL"}
    assert events["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    for name in ("triggers-test-events", "triggers-test-idempotency"):
        ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl["TimeToLiveStatus"] == "ENABLED"
        assert ttl["AttributeName"] == "expires_at"


def test_create_tables_dry_run_creates_nothing(tables: str, settings: object) -> None:
    # GIVEN a model whose table does not exist
    events_model = Event
    original = events_model.Meta.table_name
    events_model.Meta.table_name = "triggers-test-dry-run-events"
    try:
        # WHEN a dry run is asked for
        output = run_command("create_tables", "--dry-run")
        # THEN it says what it would do and the table still does not exist
        assert "triggers-test-dry-run-events: would create" in output
        assert "(event-id-index, queue-index)" in output
        assert output.strip().endswith("(dry run)")
        client = aws_client("dynamodb")
        assert not table_state(client, events_model.Meta.table_name, region="us-east-1").exists
    finally:
        events_model.Meta.table_name = original


def test_creating_tables_logs_no_warning_for_the_tables_it_expects_to_miss(tables: str) -> None:
    # GIVEN a prefix with no tables yet
    env = {**os.environ, "TABLE_PREFIX": f"triggers-fresh-{uuid.uuid4().hex[:8]}"}

    # WHEN create_tables makes them
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "create_tables"],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip

    # THEN the lookups that found nothing are not reported as problems
    assert result.stdout.strip().endswith(
        f"create_tables: {len(registered_tables())} created, 0 already existed"
    )
    lines = [json.loads(line) for line in result.stderr.splitlines() + result.stdout.splitlines()
             if line.startswith("{")]  # fmt: skip
    assert [line for line in lines if line["level"] in ("warning", "error")] == []

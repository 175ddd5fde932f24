"""Management commands against DynamoDB Local, run in-process with call_command."""

from __future__ import annotations

import pytest
from django.core.management import CommandError

from events.models import ALL_MODELS, ApiKey
from events.selectors import api_key_hash, api_key_identity
from events.tables import table_state
from triggers.aws import aws_client
from triggers.testing import run_command

pytestmark = pytest.mark.integration


def test_create_tables_is_idempotent(tables: str) -> None:
    output = run_command("create_tables")
    assert output.strip().splitlines()[-1] == "create_tables: 0 created, 3 already existed"
    for model in ALL_MODELS:
        state = table_state(model)
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
    assert indexes["inbox-index"]["KeySchema"] == [
        {"AttributeName": "inbox_tenant", "KeyType": "HASH"},
        {"AttributeName": "created_key", "KeyType": "RANGE"},
    ]
    assert all(i["Projection"]["ProjectionType"] == "ALL" for i in indexes.values())
    assert events["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    for name in ("triggers-test-events", "triggers-test-idempotency"):
        ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl["TimeToLiveStatus"] == "ENABLED"
        assert ttl["AttributeName"] == "expires_at"


def test_create_tables_dry_run_creates_nothing(tables: str, settings: object) -> None:
    # GIVEN a model whose table does not exist
    events_model = ALL_MODELS[0]
    original = events_model.Meta.table_name
    events_model.Meta.table_name = "triggers-test-dry-run-events"
    try:
        # WHEN a dry run is asked for
        output = run_command("create_tables", "--dry-run")
        # THEN it says what it would do and the table still does not exist
        assert "triggers-test-dry-run-events: would create" in output
        assert "(event-id-index, inbox-event-type-index, inbox-index, inbox-source-index)" in output
        assert output.strip().endswith("(dry run)")
        assert table_state(events_model).exists is False
    finally:
        events_model.Meta.table_name = original


def test_create_api_key_prints_the_key_last_and_stores_only_its_hash(tables: str) -> None:
    output = run_command("create_api_key", "--tenant", "cmd-tenant", "--name", "ci")

    raw_key = output.strip().splitlines()[-1]
    assert raw_key.startswith("trg_")
    assert len(raw_key) > 40
    record = ApiKey.get(api_key_hash(raw_key))
    assert record.tenant_id == "cmd-tenant"
    assert record.name == "ci"
    assert raw_key not in str(record.attribute_values)
    identity = api_key_identity(raw_key=raw_key)
    assert identity is not None
    assert identity.tenant_id == "cmd-tenant"


@pytest.mark.parametrize("tenant", ["", "has space", "x" * 65, "a#b"])
def test_create_api_key_rejects_bad_tenant_ids(tables: str, tenant: str) -> None:
    with pytest.raises(CommandError, match="--tenant"):
        run_command("create_api_key", "--tenant", tenant)


def test_revoke_api_key_revokes_and_is_safe_to_repeat(tables: str) -> None:
    raw_key = run_command("create_api_key", "--tenant", "cmd-tenant").strip().splitlines()[-1]

    first = run_command("revoke_api_key", "--key", raw_key)
    second = run_command("revoke_api_key", "--key", raw_key)

    assert "is revoked" in first
    assert "is revoked" in second
    assert raw_key not in first
    assert ApiKey.get(api_key_hash(raw_key)).revoked_at is not None


def test_revoke_unknown_key_fails_clearly(tables: str) -> None:
    with pytest.raises(CommandError, match="No such API key"):
        run_command("revoke_api_key", "--key", "trg_unknown")

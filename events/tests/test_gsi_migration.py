"""The indexes of a live table: what reads do while one is missing (Scan fallback for
lookups, the table partition for the queue), and migrate_gsi bringing each to what the
model declares (create with backfill, rebuild, remove, plan).

Everything runs against DynamoDB Local; the server under test is a real gunicorn whose
events table predates the indexes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber
from django.core.management import CommandError

from devstack.localstack import ROOT
from devstack.stack import QUICK_JVM, local_stack
from devstack.testing import (
    TEST_ENV,
    ApiClient,
    Server,
    assert_error,
    run_command,
    running_server,
    server_env,
    store_legacy_events,
)
from events.tables import TableCommandError, table_state
from triggers.core.aws import aws_client

pytestmark = pytest.mark.integration

INDEX = "event-id-index"


def create_legacy_events_table(client: Any, name: str, *, with_inbox: bool = True) -> None:
    """The events table as it was before event-id-index existed."""
    keys = [
        {"AttributeName": "tenant_id", "AttributeType": "S"},
        {"AttributeName": "created_key", "AttributeType": "S"},
    ]
    inbox = {
        "IndexName": "inbox-index",
        "KeySchema": [
            {"AttributeName": "inbox_tenant", "KeyType": "HASH"},
            {"AttributeName": "created_key", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
    extra: dict[str, Any] = {}
    if with_inbox:
        keys.append({"AttributeName": "inbox_tenant", "AttributeType": "S"})
        extra["GlobalSecondaryIndexes"] = [inbox]
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=keys,
        KeySchema=[
            {"AttributeName": "tenant_id", "KeyType": "HASH"},
            {"AttributeName": "created_key", "KeyType": "RANGE"},
        ],
        **extra,
    )


def live_indexes(table: str) -> dict[str, str]:
    description = aws_client("dynamodb").describe_table(TableName=table)["Table"]
    return {i["IndexName"]: i["IndexStatus"] for i in description.get("GlobalSecondaryIndexes", [])}


def lookup_methods(server: Server, event_id: str) -> list[str]:
    return [
        line["method"]
        for line in server.log_lines()
        if line["event"] == "event_lookup" and line.get("event_id") == event_id
    ]


def until_method(server: Server, api: ApiClient, event_id: str, method: str) -> None:
    """Look the event up until a lookup is served by `method` (within 10 s)."""
    deadline = time.monotonic() + 30  # a hang detector, not a measurement
    while True:
        assert api.get(f"/v1/events/{event_id}").status_code == 200
        if lookup_methods(server, event_id)[-1] == method:
            return
        assert time.monotonic() < deadline, f"lookups never used {method}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def legacy(
    tables: str, moto_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, ApiClient, str]]:
    """A server on a prefix whose events table has no event-id-index, plus a client for it."""
    prefix = f"triggers-legacy-{uuid.uuid4().hex[:8]}"
    create_legacy_events_table(aws_client("dynamodb"), f"{prefix}-events")
    env = server_env(
        tables,
        TABLE_PREFIX=prefix,
        INDEX_RECHECK_SECONDS="0.5",
        METRICS_BACKEND="cloudwatch",
        METRICS_FLUSH_INTERVAL_SECONDS="0.3",
        STAGE="LegacyTest",
    )
    manage = [sys.executable, str(ROOT / "manage.py")]
    created = subprocess.run(
        [*manage, "create_tables"], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert f"{prefix}-events: index event-id-index is missing" in created
    key = subprocess.run(
        [*manage, "create_api_key", "--tenant", "legacy"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    with running_server(tmp_path_factory.mktemp("legacy"), env) as server:
        yield server, ApiClient(base_url=server.url, api_key=key, tenant_id="legacy"), prefix


def test_lookups_fall_back_to_scan_then_use_the_index_once_migrated(
    legacy: tuple[Server, ApiClient, str],
) -> None:
    server, api, prefix = legacy
    table = f"{prefix}-events"

    # GIVEN events whose ids do not give their keys (UUIDv4), on a table without the id
    # index, and one whose id does
    before = store_legacy_events(api.tenant_id, 30, table=table)
    first = before[0]
    recent = api.create_event()["event_id"]

    # THEN lookups work, through a Scan, and the recent one by its key
    assert api.get(f"/v1/events/{first}").status_code == 200
    assert api.post(f"/v1/events/{before[1]}/ack").status_code == 200
    assert lookup_methods(server, first) == ["scan"]
    assert api.get(f"/v1/events/{recent}").status_code == 200
    assert lookup_methods(server, recent) == ["key"]

    # WHEN a dry run is asked for, THEN it prints the request and changes nothing
    dry = run_command("migrate_gsi", "--table-name", table, "--dry-run")
    assert '"IndexName": "event-id-index"' in dry
    assert '"AttributeName": "event_id"' in dry
    assert '"ProjectionType": "KEYS_ONLY"' in dry
    assert '"AttributeName": "inbox_tenant"' in dry  # the table's own definitions, merged
    assert "ProvisionedThroughput" not in dry  # on-demand table, on-demand index
    assert dry.strip().endswith("(dry run)")
    assert INDEX not in live_indexes(table)

    # WHEN the index is created and waited for
    output = run_command("migrate_gsi", "--table-name", table, "--poll-interval", "0.2")

    # THEN it reports progress and ends ACTIVE
    assert "ACTIVE" in output.splitlines()[-2]
    assert output.strip().splitlines()[-1].startswith(f"migrate_gsi: {INDEX} ACTIVE on {table}")
    assert live_indexes(table)[INDEX] == "ACTIVE"
    # AND the events written before the migration are in the index (backfill)
    found = aws_client("dynamodb").query(
        TableName=table,
        IndexName=INDEX,
        KeyConditionExpression="event_id = :id",
        ExpressionAttributeValues={":id": {"S": first}},
    )["Items"]
    assert [item["tenant_id"]["S"] for item in found] == ["legacy"]
    # AND, once the server tries the index again (INDEX_RECHECK_SECONDS), lookups use it
    until_method(server, api, first, "gsi")
    methods = lookup_methods(server, first)
    assert methods[0] == methods[-2] == "scan"
    assert methods[-1] == "gsi"

    # WHEN the migration runs again, THEN it is a no-op
    again = run_command("migrate_gsi", "--table-name", table)
    assert (
        again.strip()
        == f"migrate_gsi: {INDEX} on {table} is already present and ACTIVE; nothing to do"
    )

    # WHEN it is rolled back
    with pytest.raises(CommandError, match="pass --yes"):
        run_command("migrate_gsi", "--table-name", table, "--rollback")
    rolled = run_command(
        "migrate_gsi", "--table-name", table, "--rollback", "--yes", "--poll-interval", "0.2"
    )
    assert rolled.strip().splitlines()[-1].startswith(f"migrate_gsi: {INDEX} removed from {table}")
    assert INDEX not in live_indexes(table)
    # THEN lookups fall back to the Scan again, and nothing was lost
    assert api.get(f"/v1/events/{before[-1]}").json()["payload"] == {"n": 29}
    assert lookup_methods(server, before[-1]) == ["scan"]
    assert (
        run_command("migrate_gsi", "--table-name", table, "--rollback", "--yes")
        .strip()
        .endswith("nothing to roll back")
    )


def inbox_page(server: Server, api: ApiClient, source: str) -> tuple[list[str], str]:
    response = api.get("/v1/inbox", params={"source": source})
    assert response.status_code == 200, response.text
    read_from = server.line(response, "inbox_listed")["read_from"]
    return [e["event_id"] for e in response.json()["events"]], read_from


def test_the_queue_is_read_from_the_table_until_migrated_with_older_events(
    legacy: tuple[Server, ApiClient, str],
) -> None:
    server, api, prefix = legacy
    table = f"{prefix}-events"

    # GIVEN pending events written before queue-index existed, and newer ones
    older = store_legacy_events(api.tenant_id, 3, source="billing", table=table)
    newer = [api.create_event(source="billing")["event_id"] for _ in range(2)]
    api.create_event(source="other")

    # WHEN the inbox is read, and an event leased, on a table without queue-index
    ids, read_from = inbox_page(server, api, "billing")
    response = api.post("/v1/inbox/lease", json={"limit": 1, "source": "billing"})
    (leased,) = response.json()["events"]
    # THEN both are served from the table partition, older events included
    assert (ids, read_from) == (older + newer, "table")
    assert leased["event_id"] == older[0]
    assert server.line(response, "events_leased")["read_from"] == "table"

    # WHEN the index is added (its key set on the older events first)
    dry = run_command("migrate_gsi", "--table-name", table, "--index", "queue-index",
                      "--dry-run")  # fmt: skip
    assert re.search(r"visible_key: would set on \d+ queued events that lacked it", dry)
    output = run_command(
        "migrate_gsi", "--table-name", table, "--index", "queue-index", "--poll-interval", "0.2"
    )
    assert re.search(r"visible_key: set on \d+ queued events that lacked it", output)
    assert live_indexes(table)["queue-index"] == "ACTIVE"

    # THEN, once the server tries the index again, it serves the inbox, older events
    # included and the leased one still held
    deadline = time.monotonic() + 30  # a hang detector, not a measurement
    while (page := inbox_page(server, api, "billing"))[1] != "queue-index":
        assert page[0] == older[1:] + newer  # the fallback misses nothing meanwhile
        assert time.monotonic() < deadline, "the server never tried the new index"
        time.sleep(0.1)
    assert page == (older[1:] + newer, "queue-index")
    acked = api.post(f"/v1/events/{older[0]}/ack", json={"lease_token": leased["lease"]["token"]})
    assert acked.status_code == 200, acked.text
    # AND running it again finds no event left without its key
    again = run_command("migrate_gsi", "--table-name", table, "--index", "queue-index")
    assert "visible_key: set on 0 queued events that lacked it" in again
    assert again.strip().endswith("is already present and ACTIVE; nothing to do")


def create_previous_release_table(client: Any, name: str) -> None:
    """The events table of the release before leases: four indexes, projection ALL."""
    by = {
        "event-id-index": "event_id",
        "inbox-index": "inbox_tenant",
        "inbox-source-index": "inbox_source",
        "inbox-event-type-index": "inbox_event_type",
    }
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": attribute, "AttributeType": "S"}
            for attribute in ("tenant_id", "created_key", *by.values())
        ],
        KeySchema=[
            {"AttributeName": "tenant_id", "KeyType": "HASH"},
            {"AttributeName": "created_key", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index,
                "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}]
                + (
                    []
                    if index == "event-id-index"
                    else [{"AttributeName": "created_key", "KeyType": "RANGE"}]
                ),
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, key in by.items()
        ],
    )


def test_plan_rebuild_and_removal_bring_the_previous_release_to_the_model(tables: str) -> None:
    # GIVEN the events table of the release before leases
    table = f"previous-{uuid.uuid4().hex[:8]}-events"
    create_previous_release_table(aws_client("dynamodb"), table)

    # WHEN the plan is asked for THEN it lists each step, in order
    plan = run_command("migrate_gsi", "--table-name", table, "--plan").strip().splitlines()
    assert plan == [
        "manage.py migrate_gsi --index queue-index",
        "manage.py migrate_gsi --index event-id-index --rebuild",
        "manage.py migrate_gsi --index inbox-event-type-index --rollback",
        "manage.py migrate_gsi --index inbox-index --rollback",
        "manage.py migrate_gsi --index inbox-source-index --rollback",
        f"migrate_gsi: {table} needs 5 step(s), one at a time, in this order",
    ]
    # AND an index whose projection changed is not silently left as it is
    with pytest.raises(CommandError, match="projects ALL where the model declares KEYS_ONLY"):
        run_command("migrate_gsi", "--table-name", table)

    # WHEN each step runs
    for step in plan[:-1]:
        arguments = step.split()[2:]
        run_command("migrate_gsi", "--table-name", table, *arguments, "--yes",
                    "--poll-interval", "0.2")  # fmt: skip

    # THEN the table has the model's indexes, as declared
    described = aws_client("dynamodb").describe_table(TableName=table)["Table"]
    projections = {
        index["IndexName"]: index["Projection"]["ProjectionType"]
        for index in described["GlobalSecondaryIndexes"]
    }
    assert projections == {"event-id-index": "KEYS_ONLY", "queue-index": "ALL"}
    assert (
        run_command("migrate_gsi", "--table-name", table, "--plan")
        .strip()
        .endswith("has every index as declared; nothing to do")
    )


def test_scan_lookups_are_counted_as_lookups_and_index_fallbacks(
    legacy: tuple[Server, ApiClient, str],
) -> None:
    _, api, _ = legacy
    created = api.create_event()
    # make sure this lookup is a scan whatever the index state the previous test left
    api.get(f"/v1/events/{created['event_id']}")

    def total(metric: str, dimension: dict[str, str]) -> float:
        points = aws_client("cloudwatch").get_metric_statistics(
            Namespace="TriggersAPI/LegacyTest",
            MetricName=metric,
            Dimensions=[{"Name": name, "Value": value} for name, value in dimension.items()],
            StartTime=datetime.now(UTC) - timedelta(hours=1),
            EndTime=datetime.now(UTC) + timedelta(minutes=5),
            Period=3600,
            Statistics=["Sum"],
        )["Datapoints"]
        return float(sum(p["Sum"] for p in points))

    deadline = time.monotonic() + 30  # a hang detector, not a measurement
    while (
        total("EventLookups", {"LookupMethod": "scan"}) < 1
        or total("IndexFallbacks", {"Index": INDEX}) < 1
    ):
        assert time.monotonic() < deadline, "no scan lookup / index fallback metric arrived"
        time.sleep(0.3)


@pytest.fixture(scope="module")
def scan_guarded(
    tables: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, ApiClient, list[str]]]:
    """A table without event-id-index holding 3,000 events of one tenant, and a server that
    may Scan 500 items per lookup, one Scan at a time."""
    prefix = f"triggers-guarded-{uuid.uuid4().hex[:8]}"
    create_legacy_events_table(aws_client("dynamodb"), f"{prefix}-events")
    env = server_env(
        tables,
        TABLE_PREFIX=prefix,
        EVENT_SCAN_BUDGET_ITEMS="500",
        EVENT_SCAN_MAX_CONCURRENT="1",
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="8",
    )
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "create_tables"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    ids = store_legacy_events("guarded", 3000, table=f"{prefix}-events")
    key = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "create_api_key", "--tenant", "guarded"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    with running_server(tmp_path_factory.mktemp("guarded"), env) as server:
        yield server, ApiClient(base_url=server.url, api_key=key, tenant_id="guarded"), ids


def test_scan_lookups_stop_at_their_budget_and_their_concurrency(
    scan_guarded: tuple[Server, ApiClient, list[str]],
) -> None:
    server, api, ids = scan_guarded
    # GIVEN a table the id index does not cover, and ids that do not give their keys:
    # lookups Scan, at most 500 items each

    # WHEN an event among the first items is looked up, THEN the Scan finds it
    assert api.get(f"/v1/events/{ids[0]}").status_code == 200

    # WHEN the Scan would have to read past its budget, THEN it is a 503, not a long Scan
    response = api.get(f"/v1/events/{ids[-1]}")
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["Retry-After"] == "1"
    assert server.line(response, "service_unavailable")["cause"] == "scan_budget"

    # WHEN several lookups arrive at once, THEN one Scans and the others are turned away
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: api.get(f"/v1/events/{ids[-1]}"), range(8)))
    causes = [server.line(r, "service_unavailable")["cause"] for r in answers]
    assert {r.status_code for r in answers} == {503}
    assert "scan_busy" in causes


def test_a_missing_event_never_triggers_a_scan(server: Server, api: ApiClient) -> None:
    missing = str(uuid.uuid4())
    assert api.get(f"/v1/events/{missing}").status_code == 404
    (line,) = [
        entry
        for entry in server.log_lines()
        if entry["event"] == "event_lookup" and entry.get("event_id") == missing
    ]
    assert line["method"] == "gsi"
    assert line["found"] is False


def test_missing_table_is_a_clear_error(tables: str) -> None:
    with pytest.raises(CommandError, match="does not exist in us-east-1"):
        run_command("migrate_gsi", "--table-name", "no-such-table")


def test_unknown_index_is_a_clear_error(tables: str) -> None:
    with pytest.raises(CommandError, match="declares no index 'nope'"):
        run_command("migrate_gsi", "--index", "nope")


def test_existing_index_on_the_main_table_is_a_no_op(tables: str) -> None:
    assert "already present and ACTIVE" in run_command("migrate_gsi")


def test_unreachable_dynamodb_is_a_clear_error(
    tables: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(CommandError, match="Cannot reach DynamoDB"):
        run_command("migrate_gsi")


@pytest.mark.parametrize("code", ["UnrecognizedClientException", "ExpiredTokenException"])
def test_refused_credentials_are_a_clear_error(code: str) -> None:
    client = aws_client("dynamodb")
    with Stubber(client) as stub:
        stub.add_client_error("describe_table", service_error_code=code, http_status_code=400)
        with pytest.raises(TableCommandError, match="refused the credentials"):
            table_state(client, "events", region="eu-west-1")


@pytest.fixture(scope="module")
def slow_dynamodb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second DynamoDB Local that keeps new indexes CREATING for a while, as AWS does
    (no tables: the tests make their own)."""
    with local_stack(
        tmp_path_factory.mktemp("slow-dynamodb"),
        settings=TEST_ENV,
        dynamodb_args=("-delayTransientStatuses",),
        java_options=QUICK_JVM,
        moto=False,
        tables=False,
    ) as slow:
        yield slow.dynamodb_url


def test_wait_follows_a_creating_index_until_active(
    tables: str, slow_dynamodb: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a legacy table on a DynamoDB that builds indexes slowly
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", slow_dynamodb)
    client = aws_client("dynamodb")
    create_legacy_events_table(client, "slow-events")
    client.get_waiter("table_exists").wait(TableName="slow-events")
    while live_indexes("slow-events").get("inbox-index") != "ACTIVE":
        time.sleep(0.5)
    client.update_table(
        TableName="slow-events",
        GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "inbox-index"}}],
    )
    while "inbox-index" in live_indexes("slow-events"):
        time.sleep(0.5)

    # WHEN the index creation starts without waiting
    started = run_command("migrate_gsi", "--table-name", "slow-events", "--no-wait")
    assert started.strip().endswith("is being created; not waiting")
    assert live_indexes("slow-events")[INDEX] == "CREATING"

    # THEN a second index cannot start meanwhile
    with pytest.raises(CommandError, match="Another index on slow-events is changing"):
        run_command("migrate_gsi", "--table-name", "slow-events", "--index", "queue-index")
    # AND a short timeout gives up with a non-zero exit, leaving DynamoDB to carry on
    with pytest.raises(CommandError, match="still CREATING after 1s"):
        run_command(
            "migrate_gsi", "--table-name", "slow-events", "--timeout", "1", "--poll-interval", "0.5"
        )

    # WHEN it is waited for
    output = run_command("migrate_gsi", "--table-name", "slow-events", "--poll-interval", "1")

    # THEN progress lines show it CREATING, then ACTIVE, and the summary says so
    lines = output.strip().splitlines()
    assert lines[0] == f"{INDEX} on slow-events is CREATING; waiting"
    assert any("CREATING" in line for line in lines[1:-1])
    assert "ACTIVE" in lines[-2]
    assert lines[-1].startswith(f"migrate_gsi: {INDEX} ACTIVE on slow-events after")
    assert os.environ["AWS_ENDPOINT_URL_DYNAMODB"] == slow_dynamodb

"""setup_dashboard and setup_alarms against moto's CloudWatch and SNS, in-process."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from django.core.management import CommandError

from devstack.testing import run_command
from observability.alarms import alarm_definitions
from observability.constants import namespace
from observability.dashboard import dashboard_body
from triggers.aws import aws_client

pytestmark = pytest.mark.integration

STAGE = "Test"  # settings.STAGE in the test environment


@pytest.fixture
def aws(moto_url: str) -> str:
    requests.post(moto_url + "/moto-api/reset", timeout=10)
    return moto_url


def test_setup_dashboard_round_trips_the_spec(aws: str) -> None:
    output = run_command("setup_dashboard")

    assert output.strip().splitlines()[-1].startswith("setup_dashboard: TriggersAPI-Test is up")
    stored = aws_client("cloudwatch").get_dashboard(DashboardName="TriggersAPI-Test")
    assert json.loads(stored["DashboardBody"]) == dashboard_body(
        namespace=namespace(STAGE), region="us-east-1"
    )


def test_setup_dashboard_twice_leaves_one_dashboard(aws: str) -> None:
    run_command("setup_dashboard")
    run_command("setup_dashboard")
    names = [
        d["DashboardName"] for d in aws_client("cloudwatch").list_dashboards()["DashboardEntries"]
    ]
    assert names == ["TriggersAPI-Test"]


def test_setup_dashboard_dry_run_prints_the_body_and_writes_nothing(aws: str) -> None:
    output = run_command("setup_dashboard", "--dashboard-name", "Preview", "--dry-run")
    body, summary = output.rsplit("\n", 2)[0], output.strip().splitlines()[-1]
    assert json.loads(body)["widgets"]
    assert summary.endswith("(dry run)")
    assert aws_client("cloudwatch").list_dashboards()["DashboardEntries"] == []


def test_dashboard_covers_the_required_views() -> None:
    body = dashboard_body(namespace="TriggersAPI/Test", region="us-east-1")
    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert sum(t.startswith("Latency") for t in titles) == 5
    for required in ("Success rate", "Errors by type", "Requests per endpoint",
                     "Events ingested", "Lookups by method", "503s by cause",
                     "Reads that could not use their index",
                     "Reads cut short"):  # fmt: skip
        assert any(t.startswith(required) for t in titles), required
    assert body["start"] == "-PT3H"
    latency = body["widgets"][0]["properties"]["metrics"]
    assert [row[-1]["stat"] for row in latency] == ["p50", "p95", "p99"]


def _described() -> dict[str, dict[str, Any]]:
    alarms = aws_client("cloudwatch").describe_alarms(AlarmNamePrefix="TriggersAPI-Test-")
    return {alarm["AlarmName"]: alarm for alarm in alarms["MetricAlarms"]}


_COMPARED = (
    "Namespace", "MetricName", "ExtendedStatistic", "Period", "Threshold", "ComparisonOperator",
    "EvaluationPeriods", "DatapointsToAlarm", "TreatMissingData", "AlarmActions", "OKActions",
    "ActionsEnabled",
)  # fmt: skip


def _normalized_dims(dims: list[dict[str, str]]) -> list[tuple[str, str]]:
    return sorted((d["Name"], d["Value"]) for d in dims)


def _normalized_queries(queries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    result = []
    for query in queries:
        stat = query.get("MetricStat")
        if stat:
            metric = stat["Metric"]
            result.append(
                (
                    query["Id"],
                    metric["MetricName"],
                    tuple(_normalized_dims(metric["Dimensions"])),
                    stat["Stat"],
                    stat["Period"],
                    query.get("ReturnData"),
                )
            )
        else:
            result.append((query["Id"], query["Expression"], query.get("ReturnData")))
    return result


def test_setup_alarms_round_trips_the_spec_with_a_new_topic(aws: str) -> None:
    output = run_command("setup_alarms", "--create-topic", "triggers-oncall")

    topic_arn = aws_client("sns").create_topic(Name="triggers-oncall")["TopicArn"]
    expected = alarm_definitions(namespace=namespace(STAGE), stage=STAGE, actions=[topic_arn])
    described = _described()
    assert sorted(described) == sorted(a["AlarmName"] for a in expected)
    assert len(expected) == 15
    for alarm in expected:
        got = described[alarm["AlarmName"]]
        for field in _COMPARED:
            if field in alarm:
                assert got[field] == alarm[field], (alarm["AlarmName"], field)
        if "Dimensions" in alarm:
            assert _normalized_dims(got["Dimensions"]) == _normalized_dims(alarm["Dimensions"])
        if "Metrics" in alarm:
            assert _normalized_queries(got["Metrics"]) == _normalized_queries(alarm["Metrics"])
    assert output.strip().splitlines()[-1] == (
        f"setup_alarms: put 15 alarms, deleted 0; actions: {topic_arn}"
    )


def test_setup_alarms_twice_leaves_the_same_alarms(aws: str) -> None:
    run_command("setup_alarms", "--sns-topic-arn", "arn:aws:sns:us-east-1:123456789012:ops")
    first = _described()
    run_command("setup_alarms", "--sns-topic-arn", "arn:aws:sns:us-east-1:123456789012:ops")
    second = _described()
    assert sorted(first) == sorted(second)
    for name, alarm in first.items():
        for field in _COMPARED:
            assert alarm.get(field) == second[name].get(field)


def test_setup_alarms_removes_alarms_the_spec_no_longer_has(aws: str) -> None:
    cloudwatch = aws_client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="TriggersAPI-Test-retired-endpoint-latency-p95", Namespace="TriggersAPI/Test",
        MetricName="Latency", Statistic="Average", Period=60, EvaluationPeriods=1,
        Threshold=1, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    cloudwatch.put_metric_alarm(
        AlarmName="SomeoneElses-alarm", Namespace="Other", MetricName="X", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip

    output = run_command("setup_alarms")

    assert "deleted 1" in output
    assert "TriggersAPI-Test-retired-endpoint-latency-p95" not in _described()
    others = cloudwatch.describe_alarms(AlarmNamePrefix="SomeoneElses")["MetricAlarms"]
    assert len(others) == 1


def test_setup_alarms_dry_run_prints_every_alarm_and_writes_nothing(aws: str) -> None:
    output = run_command("setup_alarms", "--create-topic", "never-created", "--dry-run")

    assert output.count('"AlarmName"') == 15
    assert output.strip().endswith("(dry run)")
    assert _described() == {}
    assert aws_client("sns").list_topics()["Topics"] == []


def test_setup_alarms_rejects_a_malformed_topic_arn(aws: str) -> None:
    with pytest.raises(CommandError, match="must be an ARN"):
        run_command("setup_alarms", "--sns-topic-arn", "ops-topic")

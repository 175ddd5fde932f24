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
from observability.spec import ENDPOINTS
from observability.tests.cloudwatch_rules import alarm_problems, dashboard_problems
from triggers.core.aws import aws_client

pytestmark = pytest.mark.integration

STAGE = "Test"  # settings.STAGE in the test environment
# latency, success and error rate per endpoint; 429s; the backlog's age; dead letters
ALARMS = 3 * len(ENDPOINTS) + 3


@pytest.fixture
def aws(moto_url: str) -> str:
    requests.post(moto_url + "/moto-api/reset", timeout=10)
    return moto_url


def test_setup_dashboard_puts_a_body_cloudwatch_would_accept(aws: str) -> None:
    output = run_command("setup_dashboard")

    stored = aws_client("cloudwatch").get_dashboard(DashboardName="TriggersAPI-Test")
    body = json.loads(stored["DashboardBody"])
    assert dashboard_problems(body) == []
    assert output.strip().splitlines()[-1] == (
        f"setup_dashboard: TriggersAPI-Test is up to date ({len(body['widgets'])} widgets, "
        "us-east-1)"
    )
    widgets = body["widgets"]
    assert all(w["properties"]["region"] == "us-east-1" for w in widgets)
    # the grid has no overlaps: two columns of 12, rows of 6
    cells = {(w["x"], w["y"]) for w in widgets}
    assert len(cells) == len(widgets)


def _broken(body: dict[str, Any], change: Any) -> dict[str, Any]:
    broken = json.loads(json.dumps(body))
    change(broken)
    return broken


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b["widgets"][0].update(x=20, width=12),  # off the 24-column grid
        lambda b: b["widgets"][0]["properties"].pop("region"),
        lambda b: b["widgets"][0]["properties"].update(period=90),
        lambda b: b["widgets"][0]["properties"]["metrics"][0].insert(2, "Endpoint"),  # odd dims
        lambda b: b["widgets"][0]["properties"]["metrics"][0][-1].update(stat="p95x"),
        lambda b: b.update(widgets=b["widgets"] * 40),  # over 500 widgets
    ],
)
def test_the_dashboard_checks_catch_what_cloudwatch_rejects(change: Any) -> None:
    body = dashboard_body(namespace=namespace(STAGE), region="us-east-1")
    assert dashboard_problems(_broken(body, change)) != []


def test_the_dashboard_checks_catch_an_expression_with_an_undefined_id() -> None:
    body = dashboard_body(namespace=namespace(STAGE), region="us-east-1")
    rate = next(w for w in body["widgets"] if w["properties"]["title"].startswith("Success"))
    rate["properties"]["metrics"][0][0]["expression"] = "100 * FILL(s0, 0) / nothing"
    assert any("nothing" in problem for problem in dashboard_problems(body))


def test_setup_dashboard_twice_leaves_one_dashboard(aws: str) -> None:
    run_command("setup_dashboard")
    run_command("setup_dashboard")
    names = [
        d["DashboardName"] for d in aws_client("cloudwatch").list_dashboards()["DashboardEntries"]
    ]
    assert names.count("TriggersAPI-Test") == 1


def test_setup_dashboard_dry_run_prints_the_body_and_writes_nothing(aws: str) -> None:
    output = run_command("setup_dashboard", "--dashboard-name", "Preview", "--dry-run")
    body, summary = output.rsplit("\n", 2)[0], output.strip().splitlines()[-1]
    assert json.loads(body)["widgets"]
    assert summary.endswith("(dry run)")
    dashboards = aws_client("cloudwatch").list_dashboards()["DashboardEntries"]
    assert "Preview" not in {d["DashboardName"] for d in dashboards}


def test_dashboard_covers_the_required_views() -> None:
    body = dashboard_body(namespace="TriggersAPI/Test", region="us-east-1")
    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert sum(t.startswith("Latency") for t in titles) == len(ENDPOINTS)
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


def test_the_alarms_are_what_cloudwatch_would_accept() -> None:
    actions = ["arn:aws:sns:us-east-1:123456789012:oncall"]
    alarms = alarm_definitions(namespace=namespace(STAGE), stage=STAGE, actions=actions)
    assert len(alarms) == ALARMS
    assert [problem for alarm in alarms for problem in alarm_problems(alarm)] == []


@pytest.mark.parametrize(
    "change",
    [
        lambda a: a.update(AlarmName="x" * 256),
        lambda a: a.update(DatapointsToAlarm=9),  # more than EvaluationPeriods
        lambda a: a.update(Period=90),
        lambda a: a.update(EvaluationPeriods=1441),  # over a day of 60 s periods
        lambda a: a.update(ExtendedStatistic="p999"),
        lambda a: a.update(AlarmActions=["not-an-arn"]),
        lambda a: a.update(TreatMissingData="sometimes"),
    ],
)
def test_the_alarm_checks_catch_what_cloudwatch_rejects(change: Any) -> None:
    latency = alarm_definitions(namespace=namespace(STAGE), stage=STAGE, actions=[])[0]
    assert alarm_problems(_broken(latency, change)) != []


def test_the_alarm_checks_catch_broken_metric_math() -> None:
    rate = alarm_definitions(namespace=namespace(STAGE), stage=STAGE, actions=[])[1]
    undefined = _broken(rate, lambda a: a["Metrics"][2].update(Expression="100 * ok / all"))
    two_results = _broken(rate, lambda a: a["Metrics"][0].update(ReturnData=True))
    assert any("all" in problem for problem in alarm_problems(undefined))
    assert alarm_problems(two_results) != []


def test_setup_alarms_creates_the_topic_and_notifies_it_on_alarm_and_ok(aws: str) -> None:
    output = run_command("setup_alarms", "--create-topic", "triggers-oncall")

    topic_arn = aws_client("sns").create_topic(Name="triggers-oncall")["TopicArn"]
    described = _described()
    assert len(described) == ALARMS
    for alarm in described.values():
        assert alarm["AlarmActions"] == alarm["OKActions"] == [topic_arn]
        assert alarm["ActionsEnabled"] is True
    assert output.strip().splitlines()[-1] == (
        f"setup_alarms: put {ALARMS} alarms, deleted 0; actions: {topic_arn}"
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

    assert output.count('"AlarmName"') == ALARMS
    assert output.strip().endswith("(dry run)")
    assert _described() == {}
    topics = aws_client("sns").list_topics()["Topics"]
    assert not [t for t in topics if t["TopicArn"].endswith(":never-created")]


def test_the_backlog_alarm_takes_its_threshold_and_dead_letters_page_at_the_first(
    aws: str,
) -> None:
    run_command("setup_alarms", "--backlog-age", "120")

    alarms = _described()
    backlog = alarms["TriggersAPI-Test-oldest-pending-age"]
    assert (backlog["MetricName"], backlog["Statistic"]) == ("OldestPendingAge", "Maximum")
    assert backlog["Threshold"] == 120
    dead = alarms["TriggersAPI-Test-dead-letters"]
    assert (dead["MetricName"], dead["Threshold"], dead["ComparisonOperator"]) == (
        "DeadLetters",
        0,
        "GreaterThanThreshold",
    )
    with pytest.raises(CommandError, match="positive"):
        run_command("setup_alarms", "--backlog-age", "0")


def test_setup_alarms_rejects_a_malformed_topic_arn(aws: str) -> None:
    with pytest.raises(CommandError, match="must be an ARN"):
        run_command("setup_alarms", "--sns-topic-arn", "ops-topic")


def test_drill_alarms_drives_every_alarm_to_alarm_and_back_to_ok(aws: str) -> None:
    # GIVEN the alarms, notifying a topic that exists
    run_command("setup_alarms", "--create-topic", "triggers-oncall")
    before = {name: alarm["StateValue"] for name, alarm in _described().items()}

    # WHEN a drill is asked for without --yes, or as a dry run, THEN nobody is paged
    with pytest.raises(CommandError, match="pass --yes"):
        run_command("drill_alarms")
    dry = run_command("drill_alarms", "--dry-run")
    assert dry.strip().splitlines()[-1].startswith(f"drill_alarms: would drive {ALARMS} alarms")
    assert {name: alarm["StateValue"] for name, alarm in _described().items()} == before

    # WHEN the drill runs
    output = run_command("drill_alarms", "--yes")

    # THEN each alarm went to ALARM (notifying the topic) and back to OK (notifying again)
    lines = output.strip().splitlines()
    assert sorted(lines[:-1]) == sorted(f"{name}: ALARM, then OK" for name in before)
    assert lines[-1].startswith(f"drill_alarms: {ALARMS} alarms went to ALARM and back to OK")
    for alarm in _described().values():
        assert alarm["StateValue"] == "OK"
        assert "Paging drill" in alarm["StateReason"]


def test_drill_alarms_refuses_when_a_topic_does_not_exist(aws: str) -> None:
    run_command("setup_alarms", "--sns-topic-arn", "arn:aws:sns:us-east-1:123456789012:gone")
    before = {name: alarm["StateValue"] for name, alarm in _described().items()}

    with pytest.raises(CommandError, match="notifies arn:aws:sns:us-east-1:123456789012:gone"):
        run_command("drill_alarms", "--yes")

    assert {name: alarm["StateValue"] for name, alarm in _described().items()} == before

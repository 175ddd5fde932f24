"""What CloudWatch would reject in a dashboard body or a PutMetricAlarm request.

moto stores dashboards and alarms without checking them, so a round trip through it
proves nothing about AWS. These checks follow CloudWatch's documentation instead:
the dashboard body structure (CloudWatch-Dashboard-Body-Structure), PutMetricAlarm
and MetricDataQuery (CloudWatch API reference), and metric math syntax.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["alarm_problems", "dashboard_problems"]

_QUERY_ID = re.compile(r"[a-z][a-zA-Z0-9_]*")
_STRING = re.compile(r"'[^']*'|\"[^\"]*\"")
_NAME = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\b(\s*\()?")
_EXTENDED_STATISTIC = re.compile(r"p(\d{1,2}(\.\d{1,2})?|100)")
_STATISTICS = {"SampleCount", "Average", "Sum", "Minimum", "Maximum"}
_COMPARISONS = {
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
}
_MISSING_DATA = {"breaching", "notBreaching", "ignore", "missing"}
_MAX_DIMENSIONS = 30


def _valid_period(period: object) -> bool:
    return isinstance(period, int) and (period in (10, 20, 30) or (period > 0 and period % 60 == 0))


def _unknown_ids(expression: str, known: set[str]) -> set[str]:
    """Lower-case names an expression uses (functions and constants aside) that no query defines."""
    text = _STRING.sub("", expression)
    used = {name for name, call in _NAME.findall(text) if not call and name[0].islower()}
    return used - known


def _dimension_problems(where: str, dimensions: list[tuple[str, str]]) -> list[str]:
    problems = []
    if len(dimensions) > _MAX_DIMENSIONS:
        problems.append(f"{where}: more than {_MAX_DIMENSIONS} dimensions")
    for name, value in dimensions:
        if not 1 <= len(name) <= 255 or not 1 <= len(value) <= 1024:
            problems.append(f"{where}: dimension {name!r}={value!r} out of bounds")
    return problems


def _metric_row_problems(where: str, row: list[Any]) -> tuple[list[str], str | None]:
    """A metrics-array row: [Namespace, MetricName, (name, value)*, {options}] or [{expression}]."""
    options = row[-1] if row and isinstance(row[-1], dict) else {}
    parts = row[:-1] if options else row
    query_id = options.get("id")
    problems = []
    if query_id is not None and not _QUERY_ID.fullmatch(query_id):
        problems.append(f"{where}: id {query_id!r} must start with a lower-case letter")
    if "expression" in options:
        if parts:
            problems.append(f"{where}: an expression row has nothing but its options")
        return problems, query_id
    if len(parts) < 2 or len(parts) % 2:
        problems.append(f"{where}: [namespace, metric, name, value, ...] expected, got {parts}")
        return problems, query_id
    pairs = list(zip(parts[2::2], parts[3::2], strict=True))
    problems += _dimension_problems(where, pairs)
    stat = options.get("stat")
    if stat is not None and stat not in _STATISTICS and not _EXTENDED_STATISTIC.fullmatch(stat):
        problems.append(f"{where}: unknown stat {stat!r}")
    return problems, query_id


def dashboard_problems(body: dict[str, Any]) -> list[str]:
    widgets = body.get("widgets")
    if not isinstance(widgets, list) or len(widgets) > 500:
        return ["widgets must be an array of at most 500 widgets"]
    problems: list[str] = []
    for index, widget in enumerate(widgets):
        problems += _widget_problems(f"widgets[{index}]", widget)
    return problems


def _widget_problems(where: str, widget: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    x, width, height = widget.get("x", 0), widget.get("width", 6), widget.get("height", 6)
    if not (0 <= x <= 23 and 1 <= width <= 24 and x + width <= 24 and 1 <= height <= 1000):
        problems.append(f"{where}: outside the 24-column grid ({x=}, {width=}, {height=})")
    if widget.get("type") != "metric":
        return problems
    properties = widget.get("properties", {})
    if not properties.get("region"):
        problems.append(f"{where}: a metric widget needs a region")
    if not _valid_period(properties.get("period", 300)):
        problems.append(f"{where}: period must be 10, 20, 30 or a multiple of 60")
    rows = properties.get("metrics", [])
    if not rows or len(rows) > 500:
        problems.append(f"{where}: 1 to 500 metrics")
    ids: list[str] = []
    expressions: list[str] = []
    for number, row in enumerate(rows):
        row_problems, query_id = _metric_row_problems(f"{where}.metrics[{number}]", row)
        problems += row_problems
        ids += [] if query_id is None else [query_id]
        if row and isinstance(row[-1], dict) and "expression" in row[-1]:
            expressions.append(row[-1]["expression"])
    if len(ids) != len(set(ids)):
        problems.append(f"{where}: metric ids are not unique")
    for expression in expressions:
        unknown = _unknown_ids(expression, set(ids))
        if unknown:
            problems.append(f"{where}: {expression!r} uses undefined ids {sorted(unknown)}")
    return problems


def alarm_problems(alarm: dict[str, Any]) -> list[str]:
    name = alarm.get("AlarmName", "")
    problems: list[str] = []
    if not 1 <= len(name) <= 255 or not name.isprintable():
        problems.append(f"AlarmName {name!r}: 1-255 printable characters")
    if len(alarm.get("AlarmDescription", "")) > 1024:
        problems.append(f"{name}: AlarmDescription over 1024 characters")
    if alarm.get("ComparisonOperator") not in _COMPARISONS:
        problems.append(f"{name}: ComparisonOperator {alarm.get('ComparisonOperator')!r}")
    if alarm.get("TreatMissingData", "missing") not in _MISSING_DATA:
        problems.append(f"{name}: TreatMissingData {alarm.get('TreatMissingData')!r}")
    evaluations = alarm.get("EvaluationPeriods", 0)
    if evaluations < 1 or not 1 <= alarm.get("DatapointsToAlarm", evaluations) <= evaluations:
        problems.append(f"{name}: 1 <= DatapointsToAlarm <= EvaluationPeriods")
    for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        actions = alarm.get(key, [])
        if len(actions) > 5 or not all(a.startswith("arn:") for a in actions):
            problems.append(f"{name}: {key} takes at most 5 ARNs")
    queries = alarm.get("Metrics")
    if queries is None:
        return problems + _single_metric_problems(name, alarm)
    if "MetricName" in alarm or "Period" in alarm:
        problems.append(f"{name}: Metrics excludes MetricName and Period")
    return problems + _math_problems(name, queries, evaluations)


def _single_metric_problems(name: str, alarm: dict[str, Any]) -> list[str]:
    problems = []
    has_statistic = "Statistic" in alarm
    extended = alarm.get("ExtendedStatistic")
    if has_statistic == (extended is not None):
        problems.append(f"{name}: exactly one of Statistic and ExtendedStatistic")
    if has_statistic and alarm["Statistic"] not in _STATISTICS:
        problems.append(f"{name}: Statistic {alarm['Statistic']!r}")
    if extended is not None and not _EXTENDED_STATISTIC.fullmatch(extended):
        problems.append(f"{name}: ExtendedStatistic {extended!r}")
    period = alarm.get("Period")
    if not _valid_period(period):
        problems.append(f"{name}: Period {period!r}")
    else:
        problems += _evaluation_window_problems(name, period, alarm.get("EvaluationPeriods", 0))
    dimensions = [(d["Name"], d["Value"]) for d in alarm.get("Dimensions", [])]
    return problems + _dimension_problems(name, dimensions)


def _evaluation_window_problems(name: str, period: int, evaluations: int) -> list[str]:
    # At most one day in total for periods under an hour, seven days otherwise.
    limit = 86_400 if period < 3600 else 604_800
    if period * evaluations > limit:
        return [f"{name}: Period x EvaluationPeriods over {limit} s"]
    return []


def _math_problems(name: str, queries: list[dict[str, Any]], evaluations: int) -> list[str]:
    problems = []
    stats = [q for q in queries if "MetricStat" in q]
    expressions = [q for q in queries if "Expression" in q]
    if len(queries) > 20 or len(stats) > 10 or len(expressions) > 10:
        problems.append(f"{name}: at most 20 queries, 10 metrics and 10 expressions")
    if sum(bool(q.get("ReturnData", True)) for q in queries) != 1:
        problems.append(f"{name}: exactly one query returns data")
    ids = [q.get("Id", "") for q in queries]
    if len(ids) != len(set(ids)) or not all(_QUERY_ID.fullmatch(i) for i in ids):
        problems.append(f"{name}: query ids must be unique and start with a lower-case letter")
    for query in stats:
        stat = query["MetricStat"]
        if not _valid_period(stat.get("Period")):
            problems.append(f"{name}/{query['Id']}: Period {stat.get('Period')!r}")
        else:
            problems += _evaluation_window_problems(name, stat["Period"], evaluations)
        statistic = stat.get("Stat", "")
        if statistic not in _STATISTICS and not _EXTENDED_STATISTIC.fullmatch(statistic):
            problems.append(f"{name}/{query['Id']}: Stat {statistic!r}")
        dimensions = [(d["Name"], d["Value"]) for d in stat["Metric"].get("Dimensions", [])]
        problems += _dimension_problems(f"{name}/{query['Id']}", dimensions)
    for query in expressions:
        unknown = _unknown_ids(query["Expression"], set(ids) - {query["Id"]})
        if unknown:
            problems.append(f"{name}/{query['Id']}: undefined ids {sorted(unknown)}")
    return problems

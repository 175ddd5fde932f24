"""CloudWatch alarms, generated from observability/spec.py: three per watched endpoint,
one on the rate limit's refusals, one on the backlog's age and one on dead letters."""

from __future__ import annotations

from typing import Any

from observability import constants as m
from observability.spec import (
    DEAD_LETTER_POLICY,
    ENDPOINTS,
    ERROR_RATE_MAX_PCT,
    LATENCY_POLICY,
    OLDEST_PENDING_AGE_MAX_SECONDS,
    RATE_LIMITED_MAX_PER_PERIOD,
    RATE_POLICY,
    SUCCESS_RATE_MIN_PCT,
    AlarmPolicy,
    EndpointSpec,
)

__all__ = ["alarm_definitions", "alarm_prefix"]

_RUNBOOK = "docs/METRICS.md#what-to-do-when-an-alarm-fires"


def alarm_prefix(stage: str) -> str:
    return f"TriggersAPI-{stage}-"


def _dimensions(spec: EndpointSpec, **extra: str) -> list[dict[str, str]]:
    dims = {m.ENDPOINT: spec.endpoint, m.METHOD: spec.method, **extra}
    return [{"Name": name, "Value": value} for name, value in dims.items()]


def _policy(policy: AlarmPolicy) -> dict[str, Any]:
    return {
        "EvaluationPeriods": policy.evaluation_periods,
        "DatapointsToAlarm": policy.datapoints_to_alarm,
        "TreatMissingData": policy.treat_missing_data,
    }


def _stat(
    query_id: str, namespace: str, name: str, dims: list[dict[str, str]], period: int
) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dims},
            "Period": period,
            "Stat": "Sum",
        },
        "ReturnData": False,
    }


def _rate(
    *, expression: str, label: str, numerator: dict[str, Any], denominator: dict[str, Any]
) -> list[dict[str, Any]]:
    return [
        numerator,
        denominator,
        {"Id": "rate", "Expression": expression, "Label": label, "ReturnData": True},
    ]


def alarm_definitions(
    *,
    namespace: str,
    stage: str,
    actions: list[str],
    backlog_age_seconds: float = OLDEST_PENDING_AGE_MAX_SECONDS,
) -> list[dict[str, Any]]:
    """Keyword arguments for `put_metric_alarm`, one dict per alarm."""
    prefix = alarm_prefix(stage)
    notify = {"ActionsEnabled": True, "AlarmActions": actions, "OKActions": actions}
    period = RATE_POLICY.period_seconds
    alarms: list[dict[str, Any]] = []
    for spec in ENDPOINTS:
        alarms.append(
            {
                "AlarmName": f"{prefix}{spec.slug}-latency-p95",
                "AlarmDescription": (
                    f"p95 latency of {spec.method} {spec.endpoint} above "
                    f"{spec.latency_p95_ms:g} ms. Runbook: {_RUNBOOK}"
                ),
                "Namespace": namespace,
                "MetricName": m.LATENCY,
                "Dimensions": _dimensions(spec),
                "ExtendedStatistic": "p95",
                "Period": LATENCY_POLICY.period_seconds,
                "Unit": m.MILLISECONDS,
                "Threshold": spec.latency_p95_ms,
                "ComparisonOperator": "GreaterThanThreshold",
                **_policy(LATENCY_POLICY),
                **notify,
            }
        )
        alarms.append(
            {
                "AlarmName": f"{prefix}{spec.slug}-success-rate",
                "AlarmDescription": (
                    f"Share of {spec.method} {spec.endpoint} requests answered without a 5xx "
                    f"below {SUCCESS_RATE_MIN_PCT:g} %. Runbook: {_RUNBOOK}"
                ),
                "Metrics": _rate(
                    expression="100 * FILL(ok, 0) / total",
                    label="success rate %",
                    numerator=_stat("ok", namespace, m.SUCCESS, _dimensions(spec), period),
                    denominator=_stat("total", namespace, m.REQUESTS, _dimensions(spec), period),
                ),
                "Threshold": SUCCESS_RATE_MIN_PCT,
                "ComparisonOperator": "LessThanThreshold",
                **_policy(RATE_POLICY),
                **notify,
            }
        )
        alarms.append(
            {
                "AlarmName": f"{prefix}{spec.slug}-error-rate",
                "AlarmDescription": (
                    f"Share of {spec.method} {spec.endpoint} requests failing with an unhandled "
                    f"error (500) above {ERROR_RATE_MAX_PCT:g} %. Runbook: {_RUNBOOK}"
                ),
                "Metrics": _rate(
                    expression="100 * FILL(bugs, 0) / total",
                    label="error rate %",
                    numerator=_stat(
                        "bugs",
                        namespace,
                        m.ERRORS,
                        _dimensions(spec, **{m.ERROR_TYPE: m.INTERNAL_ERROR_TYPE}),
                        period,
                    ),
                    denominator=_stat("total", namespace, m.REQUESTS, _dimensions(spec), period),
                ),
                "Threshold": ERROR_RATE_MAX_PCT,
                "ComparisonOperator": "GreaterThanThreshold",
                **_policy(RATE_POLICY),
                **notify,
            }
        )
    alarms.append(
        {
            "AlarmName": f"{prefix}rate-limited",
            "AlarmDescription": (
                f"More than {RATE_LIMITED_MAX_PER_PERIOD} requests refused by the per-key rate "
                f"limit (429) in {period // 60} minutes. Runbook: {_RUNBOOK}"
            ),
            "Namespace": namespace,
            "MetricName": m.RATE_LIMITED,
            "Dimensions": [],
            "Statistic": "Sum",
            "Period": period,
            "Threshold": RATE_LIMITED_MAX_PER_PERIOD,
            "ComparisonOperator": "GreaterThanThreshold",
            **_policy(RATE_POLICY),
            **notify,
        }
    )
    alarms += _consumer_alarms(prefix, namespace, notify, backlog_age_seconds)
    return alarms


def _consumer_alarms(
    prefix: str, namespace: str, notify: dict[str, Any], backlog_age_seconds: float
) -> list[dict[str, Any]]:
    """Consumers falling behind (the backlog's age), and events no consumer could handle."""
    return [
        {
            "AlarmName": f"{prefix}oldest-pending-age",
            "AlarmDescription": (
                f"The oldest event a lease or an inbox page returned was more than "
                f"{backlog_age_seconds:g} s old: consumers are falling behind. "
                f"Runbook: {_RUNBOOK}"
            ),
            "Namespace": namespace,
            "MetricName": m.OLDEST_PENDING_AGE,
            "Dimensions": [],
            "Statistic": "Maximum",
            "Period": LATENCY_POLICY.period_seconds,
            "Unit": m.SECONDS,
            "Threshold": backlog_age_seconds,
            "ComparisonOperator": "GreaterThanThreshold",
            **_policy(LATENCY_POLICY),
            **notify,
        },
        {
            "AlarmName": f"{prefix}dead-letters",
            "AlarmDescription": (
                "An event was dead-lettered: its consumers failed it LEASE_MAX_DELIVERIES "
                f"times. Runbook: {_RUNBOOK}"
            ),
            "Namespace": namespace,
            "MetricName": m.DEAD_LETTERS,
            "Dimensions": [],
            "Statistic": "Sum",
            "Period": RATE_POLICY.period_seconds,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            **_policy(DEAD_LETTER_POLICY),
            **notify,
        },
    ]

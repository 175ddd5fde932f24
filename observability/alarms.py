"""CloudWatch alarms, generated from observability/spec.py: three per watched endpoint,
and one on the rate limit's refusals."""

from __future__ import annotations

from typing import Any

from observability import constants as m
from observability.spec import (
    ENDPOINTS,
    ERROR_RATE_MAX_PCT,
    LATENCY_POLICY,
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


def alarm_definitions(*, namespace: str, stage: str, actions: list[str]) -> list[dict[str, Any]]:
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
    return alarms

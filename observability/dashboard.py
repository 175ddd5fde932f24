"""The CloudWatch dashboard body, generated from observability/spec.py."""

from __future__ import annotations

from typing import Any

from observability import constants as m
from observability.spec import ENDPOINTS, EndpointSpec

__all__ = ["dashboard_body", "default_dashboard_name"]

_WIDTH, _HEIGHT = 12, 6
_PERIOD = 60


def default_dashboard_name(stage: str) -> str:
    return f"TriggersAPI-{stage}"


def _endpoint_dims(spec: EndpointSpec) -> list[str]:
    return [m.ENDPOINT, spec.endpoint, m.METHOD, spec.method]


def _latency_widget(namespace: str, spec: EndpointSpec) -> dict[str, Any]:
    metric = [namespace, m.LATENCY, *_endpoint_dims(spec)]
    return {
        "title": f"Latency — {spec.title}",
        "metrics": [
            [*metric, {"stat": "p50", "label": "p50"}],
            [*metric, {"stat": "p95", "label": "p95"}],
            [*metric, {"stat": "p99", "label": "p99"}],
        ],
        "yAxis": {"left": {"label": "ms", "showUnits": False, "min": 0}},
        "annotations": {"horizontal": [{"label": "p95 alarm", "value": spec.latency_p95_ms}]},
    }


def _success_rate_widget(namespace: str) -> dict[str, Any]:
    metrics: list[list[Any]] = []
    for index, spec in enumerate(ENDPOINTS):
        success, requests = f"s{index}", f"r{index}"
        metrics.append(
            [
                {
                    # FILL: no Success data point (every request failed) is 0 %, not a gap.
                    "expression": f"100 * FILL({success}, 0) / {requests}",
                    "label": spec.title,
                    "id": f"rate{index}",
                }
            ]
        )
        metrics.append(
            [namespace, m.SUCCESS, *_endpoint_dims(spec), {"id": success, "visible": False}]
        )
        metrics.append(
            [namespace, m.REQUESTS, *_endpoint_dims(spec), {"id": requests, "visible": False}]
        )
    return {
        "title": "Success rate (% of requests answered without a 5xx)",
        "metrics": metrics,
        "stat": "Sum",
        "yAxis": {"left": {"label": "%", "showUnits": False, "max": 100}},
    }


def _per_endpoint(namespace: str, metric: str, title: str) -> dict[str, Any]:
    return {
        "title": title,
        "metrics": [
            [namespace, metric, *_endpoint_dims(spec), {"label": spec.title}] for spec in ENDPOINTS
        ],
        "stat": "Sum",
    }


def _search(namespace: str, title: str, metric: str, keys: list[str]) -> dict[str, Any]:
    """One line per value of `keys` the metric has been published with (CloudWatch SEARCH);
    FILL draws minutes without any as 0 rather than a gap."""
    search = (
        f"FILL(SEARCH('{{{namespace},{','.join(sorted(keys))}}} "
        f"MetricName=\"{metric}\"', 'Sum', {_PERIOD}), 0)"
    )
    return {
        "title": title,
        "metrics": [[{"expression": search, "id": "search", "label": ""}]],
        "stat": "Sum",
    }


def _simple(namespace: str, title: str, series: list[tuple[str, list[str], str]]) -> dict[str, Any]:
    return {
        "title": title,
        "metrics": [[namespace, name, *dims, {"label": label}] for name, dims, label in series],
        "stat": "Sum",
    }


def _backlog_age_widget(namespace: str) -> dict[str, Any]:
    return {
        "title": "Backlog: age of the oldest event a lease or inbox page returned (s, max)",
        "metrics": [[namespace, m.OLDEST_PENDING_AGE, {"label": "oldest returned"}]],
        "stat": "Maximum",
        "period": 60,
    }


def dashboard_body(*, namespace: str, region: str) -> dict[str, Any]:
    """The dashboard as CloudWatch's DashboardBody JSON (a dict; serialize to send)."""
    graphs = [_latency_widget(namespace, spec) for spec in ENDPOINTS]
    graphs += [
        _success_rate_widget(namespace),
        _search(
            namespace,
            "Errors by type (4xx and 5xx, per endpoint)",
            m.ERRORS,
            [m.ENDPOINT, m.ERROR_TYPE, m.METHOD],
        ),
        _search(
            namespace,
            "503s by cause (deadline, timeout, connection, throttled, ...)",
            m.SERVICE_UNAVAILABLE,
            [m.CAUSE],
        ),
        _per_endpoint(namespace, m.REQUESTS, "Requests per endpoint"),
        _simple(
            namespace, "Events ingested", [(m.EVENTS_INGESTED, [], "new events (not replays)")]
        ),
        _simple(
            namespace,
            "Lookups by method (key: the id gave it; scan: a table without event-id-index)",
            [
                (m.EVENT_LOOKUPS, [m.LOOKUP_METHOD, m.LOOKUP_KEY], m.LOOKUP_KEY),
                (m.EVENT_LOOKUPS, [m.LOOKUP_METHOD, m.LOOKUP_GSI], m.LOOKUP_GSI),
                (m.EVENT_LOOKUPS, [m.LOOKUP_METHOD, m.LOOKUP_SCAN], m.LOOKUP_SCAN),
            ],
        ),
        _search(
            namespace,
            "Reads that could not use their index (missing or backfilling)",
            m.INDEX_FALLBACKS,
            [m.INDEX],
        ),
        _simple(
            namespace,
            "Requests refused by the per-key rate limit (429)",
            [(m.RATE_LIMITED, [], "rate limited")],
        ),
        _search(
            namespace,
            "Reads cut short by the DynamoDB read budget",
            m.READ_BUDGET_EXHAUSTED,
            [m.OPERATION],
        ),
        _backlog_age_widget(namespace),
        _simple(
            namespace,
            "Leases: granted, expired (redelivered), released",
            [
                (m.LEASES_GRANTED, [], "granted"),
                (m.LEASE_EXPIRIES, [], "expired, leased again"),
                (m.LEASE_RELEASES, [], "released"),
            ],
        ),
        _simple(
            namespace,
            "Dead letters and redrives (dead letters should stay at zero)",
            [(m.DEAD_LETTERS, [], "dead-lettered"), (m.REDRIVES, [], "redriven")],
        ),
        _simple(
            namespace,
            "Metrics pipeline (should stay at zero)",
            [
                (m.METRICS_PUBLISH_FAILURES, [], "PutMetricData failures"),
                (m.METRICS_DROPPED, [], "data points dropped"),
            ],
        ),
    ]
    widgets = []
    for index, properties in enumerate(graphs):
        widgets.append(
            {
                "type": "metric",
                "x": (index % 2) * _WIDTH,
                "y": (index // 2) * _HEIGHT,
                "width": _WIDTH,
                "height": _HEIGHT,
                "properties": {
                    "view": "timeSeries",
                    "region": region,
                    "period": _PERIOD,
                    "liveData": True,
                    **properties,
                },
            }
        )
    return {"start": "-PT3H", "periodOverride": "inherit", "widgets": widgets}

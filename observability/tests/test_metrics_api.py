"""Metrics of requests served over HTTP, published to moto's CloudWatch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devstack.testing import Server, running_server, server_env
from observability import constants as m
from triggers.core.aws import aws_client

pytestmark = pytest.mark.integration

STAGE = "MetricsTest"
NAMESPACE = m.namespace(STAGE)


def metrics_env(tables: str, cloudwatch_url: str, *, stage: str, interval: str) -> dict[str, str]:
    return server_env(
        tables,
        METRICS_BACKEND="cloudwatch",
        METRICS_FLUSH_INTERVAL_SECONDS=interval,
        STAGE=stage,
        AWS_ENDPOINT_URL_CLOUDWATCH=cloudwatch_url,
    )


@pytest.fixture(scope="module")
def metrics_server(
    tables: str, moto_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    env = metrics_env(tables, moto_url, stage=STAGE, interval="0.5")
    with running_server(tmp_path_factory.mktemp("metrics"), env) as server:
        yield server


def cloudwatch() -> Any:
    return aws_client("cloudwatch")


def series_sum(name: str, dims: dict[str, str], stat: str = "Sum") -> float:
    response = cloudwatch().get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
        StartTime=datetime.now(UTC) - timedelta(hours=1),
        EndTime=datetime.now(UTC) + timedelta(minutes=5),
        Period=3600,
        Statistics=[stat],
    )
    return float(sum(point[stat] for point in response["Datapoints"]))

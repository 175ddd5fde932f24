"""Health, and what clients see when DynamoDB cannot be reached."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from triggers.testing import ApiClient, Server, assert_error, running_server, server_env

pytestmark = pytest.mark.integration


def test_health_needs_no_key_and_reports_dynamodb(anonymous: ApiClient) -> None:
    response = anonymous.get("/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["version"]
    assert body["checks"]["dynamodb"]["status"] == "healthy"
    assert body["request_id"] == response.headers["X-Request-ID"]


@pytest.fixture(scope="module")
def unreachable(tables: str, tmp_path_factory: pytest.TempPathFactory) -> Server:
    """A server whose DynamoDB endpoint refuses connections (a closed loopback port)."""
    env = server_env(tables, DYNAMODB_MAX_RETRY_ATTEMPTS="0", DYNAMODB_CONNECT_TIMEOUT_SECONDS="1")
    env["AWS_ENDPOINT_URL_DYNAMODB"] = "http://127.0.0.1:9"
    directory: Path = tmp_path_factory.mktemp("unreachable")
    with running_server(directory, env) as server:
        yield server


def test_health_is_503_when_dynamodb_is_unreachable(unreachable: Server) -> None:
    response = requests.get(unreachable.url + "/v1/health", timeout=30)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["dynamodb"]["status"] == "unhealthy"


def test_requests_get_503_with_retry_after_when_dynamodb_is_unreachable(
    unreachable: Server,
) -> None:
    headers = {"X-API-Key": "trg_any-key-at-all-000000000000000000000"}
    response = requests.get(unreachable.url + "/v1/inbox", headers=headers, timeout=30)
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["Retry-After"] == "1"

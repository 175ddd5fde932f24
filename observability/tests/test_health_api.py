"""Health, and what clients see when DynamoDB cannot be reached."""

from __future__ import annotations

import pytest
import requests

from devstack.testing import ApiClient, Server, assert_error, unknown_api_key

pytestmark = pytest.mark.integration


def test_health_needs_no_key_and_reports_dynamodb(anonymous: ApiClient) -> None:
    response = anonymous.get("/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["version"]
    assert body["checks"]["dynamodb"]["status"] == "healthy"
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_health_is_503_when_dynamodb_is_unreachable(unreachable_server: Server) -> None:
    response = requests.get(unreachable_server.url + "/v1/health", timeout=30)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1  # like every 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["dynamodb"] == {"status": "unhealthy", "error": "EndpointConnectionError"}


def test_liveness_answers_without_dynamodb(unreachable_server: Server) -> None:
    # GIVEN a server that cannot reach DynamoDB at all
    # WHEN the load balancer asks whether the process is up
    response = requests.get(unreachable_server.url + "/v1/health/live", timeout=5)
    # THEN it is, and finding out made no DynamoDB call
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "alive"
    assert body["version"]
    finished = unreachable_server.line(response, "request_finished")
    assert finished["dynamodb_calls"] == 0


def test_requests_get_503_with_retry_after_when_dynamodb_is_unreachable(
    unreachable_server: Server,
) -> None:
    headers = {"X-API-Key": unknown_api_key()}
    response = requests.get(unreachable_server.url + "/v1/inbox", headers=headers, timeout=30)
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["Retry-After"] == "1"

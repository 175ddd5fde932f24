"""The log lines a real gunicorn writes while serving real requests."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests

from devstack.testing import (
    ApiClient,
    Server,
    assert_error,
    running_server,
    server_env,
    unknown_api_key,
)

pytestmark = pytest.mark.integration


def traced(
    api: ApiClient, method: str, path: str, **kwargs: object
) -> tuple[requests.Response, str]:
    request_id = f"test-{uuid.uuid4().hex}"
    response = api.request(method, path, headers={"X-Request-ID": request_id}, **kwargs)
    return response, request_id


def finished_line(server: Server, request_id: str) -> dict[str, object]:
    (line,) = [
        entry for entry in server.lines_for(request_id) if entry["event"] == "request_finished"
    ]
    return line


def test_every_line_is_a_json_object_with_the_core_fields(server: Server, api: ApiClient) -> None:
    # GIVEN some traffic of every kind
    created = api.create_event()
    api.get(f"/v1/events/{created['event_id']}")
    api.get("/v1/inbox", params={"limit": "bad"})
    api.get("/v1/nowhere")
    # THEN every line of the server's output (gunicorn's own included) is a JSON object
    lines = server.log_lines()
    assert len(lines) > 10
    for line in lines:
        assert {"timestamp", "level", "event", "logger"} <= set(line), line
        assert line["timestamp"].endswith("Z")
    assert any(line["logger"].startswith("gunicorn") for line in lines)


def test_every_line_of_a_request_carries_its_request_id(server: Server, api: ApiClient) -> None:
    # WHEN an event is created with a caller-chosen request id
    response, request_id = traced(
        api, "POST", "/v1/events", json={"source": "s", "event_type": "t", "payload": {"a": 1}}
    )
    event_id = response.json()["event_id"]

    # THEN the response, and every line written for it, carry that id
    assert response.headers["X-Request-ID"] == request_id == response.json()["request_id"]
    ingested = [entry for entry in server.log_lines() if entry.get("event_id") == event_id]
    assert [entry["event"] for entry in ingested] == ["event_ingested"]
    assert ingested[0]["request_id"] == request_id
    lines = server.lines_for(request_id)
    assert {"event_ingested", "request_finished"} <= {entry["event"] for entry in lines}
    for line in lines:
        assert line["tenant_id"] == api.tenant_id
        assert line["endpoint"] == "/v1/events"
        assert line["method"] == "POST"
        assert line["api_key"].endswith("…")


def test_generated_request_id_is_the_one_logged(server: Server, api: ApiClient) -> None:
    response = api.get("/v1/inbox")
    request_id = response.headers["X-Request-ID"]
    assert finished_line(server, request_id)["status_code"] == 200


def test_endpoint_is_the_route_template_not_the_path(server: Server, api: ApiClient) -> None:
    created = api.create_event()
    _, request_id = traced(api, "GET", f"/v1/events/{created['event_id']}")
    line = finished_line(server, request_id)
    assert line["endpoint"] == "/v1/events/{event_id}"
    assert line["path"] == f"/v1/events/{created['event_id']}"

    _, request_id = traced(api, "POST", f"/v1/events/{created['event_id']}/ack")
    assert finished_line(server, request_id)["endpoint"] == "/v1/events/{event_id}/ack"

    _, request_id = traced(api, "GET", f"/v1/{uuid.uuid4()}/whatever")
    assert finished_line(server, request_id)["endpoint"] == "unmatched"


def test_duration_ms_is_measured_around_the_request(server: Server, api: ApiClient) -> None:
    _, request_id = traced(api, "GET", "/v1/inbox")
    line = finished_line(server, request_id)
    assert line["duration_ms"] > 0
    assert line["dynamodb_calls"] >= 1
    assert 0 < line["dynamodb_ms"] <= line["duration_ms"]


def test_level_follows_the_status_class(server: Server, api: ApiClient) -> None:
    _, ok = traced(api, "GET", "/v1/inbox")
    _, client_error = traced(api, "GET", "/v1/inbox", params={"limit": 0})
    assert finished_line(server, ok)["level"] == "info"
    assert finished_line(server, client_error)["level"] == "warning"
    assert finished_line(server, client_error)["status_class"] == "4xx"


def test_failed_authentication_is_logged_with_a_reason_and_masked_key(
    server: Server, anonymous: ApiClient
) -> None:
    key = unknown_api_key()
    request_id = f"test-{uuid.uuid4().hex}"
    anonymous.get("/v1/inbox", headers={"X-API-Key": key, "X-Request-ID": request_id})
    (failure,) = [
        entry for entry in server.lines_for(request_id) if entry["event"] == "authentication_failed"
    ]
    assert failure["reason"] == "unknown_key"
    assert failure["level"] == "warning"
    assert failure["api_key"] == key[:8] + "…"
    assert key not in server.log_text()


def test_unhandled_error_logs_one_request_failed_with_the_traceback_as_fields(
    broken_server: Server,
) -> None:
    request_id = f"test-{uuid.uuid4().hex}"
    headers = {"X-API-Key": unknown_api_key(), "X-Request-ID": request_id}

    response = requests.get(broken_server.url + "/v1/inbox", headers=headers, timeout=30)

    # THEN the client gets a bare 500 envelope
    error = assert_error(response, 500, "INTERNAL_ERROR")
    assert error["details"] == {}
    assert "Traceback" not in response.text
    assert "ResourceNotFound" not in response.text
    # AND the log has exactly one request_failed line with the exception as fields
    lines = broken_server.lines_for(request_id)
    (failed,) = [entry for entry in lines if entry["event"] == "request_failed"]
    assert failed["level"] == "error"
    exception, *causes = failed["exception"]  # the raised exception first, then its causes
    assert exception["exc_type"] == "GetError"
    assert causes[-1]["exc_type"] == "ResourceNotFoundException"
    assert exception["frames"]
    assert {"filename", "lineno", "name"} <= set(exception["frames"][0])
    assert finished_line(broken_server, request_id)["status_code"] == 500
    assert finished_line(broken_server, request_id)["level"] == "error"


def test_console_format_is_human_readable_key_value_lines(
    tables: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    directory: Path = tmp_path_factory.mktemp("console")
    with running_server(directory, server_env(tables, LOG_FORMAT="console")) as server:
        requests.get(server.url + "/v1/health", headers={"X-Request-ID": "console-1"}, timeout=30)
        text = server.log_text()
    (line,) = [
        entry for entry in text.splitlines() if "request_finished" in entry and "console-1" in entry
    ]
    assert not line.startswith("{")
    assert "request_id=console-1" in line
    assert "endpoint=/v1/health" in line
    assert "status_code=200" in line

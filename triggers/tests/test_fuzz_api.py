"""schemathesis against the served schema, over real HTTP: every endpoint, valid and
invalid requests alike. No answer may be a 5xx, every answer must be one the schema
declares (status, content type and body, error envelopes included), and every 4xx must
be the error envelope with the request's id."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from devstack.testing import ApiClient, Server, make_client

pytestmark = pytest.mark.integration

EXAMPLES_PER_OPERATION = 40


def error_envelope(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx is `{"error": {code, message, details, request_id}}`, with the request's id."""
    if not 400 <= response.status_code < 500:
        return None
    where = f"{case.method} {case.formatted_path} -> {response.status_code}"
    headers = {name.lower(): values[0] for name, values in response.headers.items()}
    assert headers.get("content-type") == "application/json", (where, response.text)
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), (where, body)
    assert set(error) == {"code", "message", "details", "request_id"}, (where, error)
    assert error["request_id"] == headers.get("x-request-id"), (where, error)
    return True


@pytest.fixture(scope="module")
def fuzzer(server: Server) -> ApiClient:
    # its own tenant, limited far above what the fuzzer sends
    return make_client(server, rate_limit_per_second=10_000, rate_limit_burst=10_000)


@pytest.fixture(scope="module")
def operations(server: Server) -> dict[str, Any]:
    """Every operation of the schema the server serves, by its label (`GET /v1/inbox`)."""
    loaded = schemathesis.openapi.from_url(f"{server.url}/v1/schema")
    found = {}
    for result in loaded.get_all_operations():
        operation = result.ok()
        found[operation.label] = operation
    return found


def test_the_fuzzer_sees_every_served_operation(operations: dict[str, Any]) -> None:
    assert set(operations) >= {
        "POST /v1/events",
        "POST /v1/events/batch",
        "GET /v1/events/{event_id}",
        "DELETE /v1/events/{event_id}",
        "POST /v1/events/{event_id}/ack",
        "GET /v1/inbox",
        "GET /v1/health",
        "GET /v1/health/live",
    }


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_endpoint_answers_within_its_schema(
    operations: dict[str, Any], server: Server, fuzzer: ApiClient, mode: GenerationMode
) -> None:
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        error_envelope,
    ]
    for label, operation in sorted(operations.items()):

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(mode))
        def fuzz(case: Any) -> None:
            case.call_and_validate(
                base_url=server.url, headers={"X-API-Key": fuzzer.api_key}, checks=checks
            )

        try:
            fuzz()
        except Unsatisfiable:
            # nothing to make invalid: an operation without parameters or body
            assert mode is GenerationMode.NEGATIVE, label
            assert not operation.path_parameters, label
            assert not operation.query, label
        except Exception as exc:
            raise AssertionError(f"{label} ({mode.value}): {exc}") from exc

"""The OpenAPI schema at /v1/schema describes the responses the service really sends."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
from openapi_schema_validator import OAS30Validator

from devstack.testing import ApiClient

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def schema(server: Any) -> dict[str, Any]:
    response = requests.get(server.url + "/v1/schema", timeout=30)
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def assert_matches_schema(
    schema: dict[str, Any], path: str, method: str, response: requests.Response
) -> None:
    operation = schema["paths"][path][method]
    documented = operation["responses"][str(response.status_code)]
    body_schema = documented["content"]["application/json"]["schema"]
    # "#/components/..." references resolve against the validated document's root.
    validator = OAS30Validator({**body_schema, "components": schema["components"]})
    errors = [error.message for error in validator.iter_errors(response.json())]
    assert errors == [], f"{method.upper()} {path} {response.status_code}: {errors}"


def test_schema_documents_every_endpoint_and_the_api_key(schema: dict[str, Any]) -> None:
    assert set(schema["paths"]) >= {
        "/v1/events",
        "/v1/events/{event_id}",
        "/v1/events/{event_id}/ack",
        "/v1/inbox",
        "/v1/health",
    }
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }


def test_real_responses_match_the_schema(schema: dict[str, Any], api: ApiClient) -> None:
    created = api.post(
        "/v1/events",
        json={
            "source": "s",
            "event_type": "t",
            "payload": {"x": 1},
            "metadata": {"priority": "low"},
        },
    )
    event_id = created.json()["event_id"]
    cases = [
        ("/v1/events", "post", created),
        ("/v1/events", "post", api.post("/v1/events", json={"source": ""})),
        (
            "/v1/events",
            "post",
            api.post("/v1/events", data=b"x", headers={"Content-Type": "text/plain"}),
        ),
        ("/v1/events/{event_id}", "get", api.get(f"/v1/events/{event_id}")),
        ("/v1/events/{event_id}", "get", api.get(f"/v1/events/{uuid.uuid4()}")),
        (
            "/v1/events/batch",
            "post",
            api.post(
                "/v1/events/batch",
                json={"events": [{"source": "s", "event_type": "t", "payload": {"x": 1}}, {}]},
            ),
        ),
        ("/v1/events/batch", "post", api.post("/v1/events/batch", json={"events": []})),
        ("/v1/inbox", "get", api.get("/v1/inbox", params={"limit": 1})),
        ("/v1/inbox", "get", api.get("/v1/inbox", params={"limit": 0})),
        ("/v1/events/{event_id}/ack", "post", api.post(f"/v1/events/{event_id}/ack")),
        ("/v1/inbox", "get", api.get("/v1/inbox", headers={"X-API-Key": "trg_wrong"})),
    ]
    for path, method, response in cases:
        assert_matches_schema(schema, path, method, response)


def test_health_matches_the_schema(schema: dict[str, Any], anonymous: ApiClient) -> None:
    assert_matches_schema(schema, "/v1/health", "get", anonymous.get("/v1/health"))


def test_schema_check_catches_a_mismatch(schema: dict[str, Any], api: ApiClient) -> None:
    # An error envelope is not an EventResponse: the check above can fail.
    response = api.get(f"/v1/events/{uuid.uuid4()}")
    response.status_code = 200
    with pytest.raises(AssertionError, match="required property"):
        assert_matches_schema(schema, "/v1/events/{event_id}", "get", response)


def test_the_schema_is_built_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.test import Client  # noqa: PLC0415 - Django is configured by now
    from drf_spectacular.generators import SchemaGenerator  # noqa: PLC0415

    from triggers.http.schema import SchemaView  # noqa: PLC0415

    builds: list[int] = []
    build = SchemaGenerator.get_schema

    def counted(self: SchemaGenerator, *args: Any, **kwargs: Any) -> Any:
        builds.append(1)
        return build(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counted)
    monkeypatch.setattr(SchemaView, "_schema", None)  # as in a fresh process
    client = Client(HTTP_HOST="127.0.0.1")

    answers = [client.get("/v1/schema") for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert answers[0].content == answers[1].content == answers[2].content
    assert len(builds) == 1

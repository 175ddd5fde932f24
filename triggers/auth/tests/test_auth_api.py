"""API-key authentication over real HTTP: missing, invalid, revoked, and never logged."""

from __future__ import annotations

import time

import pytest
import requests

from devstack.testing import ApiClient, Server, assert_error, make_client, unknown_api_key
from triggers.auth.services import api_key_revoke

pytestmark = pytest.mark.integration


def test_missing_key_is_a_401(anonymous: ApiClient) -> None:
    response = anonymous.get("/v1/inbox")
    assert_error(response, 401, "UNAUTHORIZED")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": "trg_this-key-does-not-exist-0000000000000000"},
        {"X-API-Key": unknown_api_key()},
        {"X-API-Key": ""},
        {"X-API-Key": "k" * 5000},
        {"Authorization": "Bearer trg_nope"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
)
def test_invalid_key_is_a_401(anonymous: ApiClient, headers: dict[str, str]) -> None:
    response = anonymous.get("/v1/inbox", headers=headers)
    assert_error(response, 401, "UNAUTHORIZED")


def test_bearer_token_is_accepted(api: ApiClient, anonymous: ApiClient) -> None:
    assert api.api_key is not None
    headers = {"Authorization": f"Bearer {api.api_key}"}
    assert anonymous.get("/v1/inbox", headers=headers).status_code == 200


def test_revoked_key_stops_working_within_the_cache_time(server: Server) -> None:
    # GIVEN a key that has just been used (so it is cached)
    client = make_client(server)
    assert client.get("/v1/inbox").status_code == 200
    assert client.api_key is not None

    # WHEN it is revoked
    api_key_revoke(raw_key=client.api_key)

    # THEN within API_KEY_CACHE_SECONDS (1 s in tests, both workers' caches) it is refused
    deadline = time.monotonic() + 30  # a hang detector, not a measurement
    while (response := client.get("/v1/inbox")).status_code == 200:
        assert time.monotonic() < deadline, "the revoked key still works"
        time.sleep(0.1)
    assert_error(response, 401, "UNAUTHORIZED")


def test_keys_never_appear_in_responses_or_logs(server: Server, anonymous: ApiClient) -> None:
    # GIVEN valid, invalid and revoked keys used against the server
    valid = make_client(server)
    revoked = make_client(server)
    assert valid.api_key is not None
    assert revoked.api_key is not None
    api_key_revoke(raw_key=revoked.api_key)
    invalid_key = "trg_invalid-key-that-must-not-be-logged-000000"
    responses = [
        valid.get("/v1/inbox"),
        valid.post("/v1/events", json={"bad": "body"}),
        revoked.get("/v1/inbox"),
        anonymous.get("/v1/inbox", headers={"X-API-Key": invalid_key}),
        anonymous.get("/v1/inbox", headers={"Authorization": f"Bearer {invalid_key}"}),
    ]
    # THEN no full key is in any response or anywhere in the server's output
    logs = server.log_text()
    for key in (valid.api_key, revoked.api_key, invalid_key):
        assert key not in logs
        for response in responses:
            assert key not in response.text
            assert key not in str(response.headers)


def auth_failure(server: Server, response: requests.Response) -> tuple[str, int]:
    """(the reason logged, the request's DynamoDB calls) of a refused request."""
    assert_error(response, 401, "UNAUTHORIZED")
    reason = server.line(response, "authentication_failed")["reason"]
    return reason, server.line(response, "request_finished")["dynamodb_calls"]


@pytest.mark.parametrize(
    "key",
    ["trg_short", "trg_" + "a" * 44, "xyz_" + "a" * 43, "trg_" + "a" * 42 + "=", "k" * 5000],
)
def test_a_key_of_the_wrong_shape_costs_no_lookup(counting_server: Server, key: str) -> None:
    anonymous = ApiClient(base_url=counting_server.url, api_key=None, tenant_id="")
    response = anonymous.get("/v1/inbox", headers={"X-API-Key": key})
    assert auth_failure(counting_server, response) == ("malformed_key", 0)


def test_an_unknown_key_is_looked_up_once_then_remembered(counting_server: Server) -> None:
    anonymous = ApiClient(base_url=counting_server.url, api_key=None, tenant_id="")
    headers = {"X-API-Key": unknown_api_key()}
    first = auth_failure(counting_server, anonymous.get("/v1/inbox", headers=headers))
    again = [
        auth_failure(counting_server, anonymous.get("/v1/inbox", headers=headers)) for _ in range(3)
    ]
    assert first == ("unknown_key", 1)
    assert again == [("unknown_key", 0)] * 3

"""Payloads round-trip over HTTP exactly (hypothesis): any Unicode text (NUL included),
numbers at and past the limits of doubles, int64 and DynamoDB's 38 digits, each number
token as sent, nesting up to the documented depth; what cannot be stored (a number past
the documented limits, a lone surrogate, nesting too deep) is a clear 400, never a 500."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack.testing import ApiClient, Server, assert_error, make_client
from triggers.core.jsoncodec import MAX_NESTING, MAX_NUMBER_DIGITS

pytestmark = pytest.mark.integration

HTTP_EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

TEXT = st.text(st.characters(codec="utf-8"), max_size=40)  # all but lone surrogates
NUMBERS = st.one_of(
    st.integers(min_value=-(10**60), max_value=10**60),
    st.sampled_from(
        [2**53, 2**53 + 1, -(2**63), 2**63 - 1, 2**64, 10**38 - 1, -(10**38) + 1, 10**38, 0]
    ),
    st.floats(allow_nan=False, allow_infinity=False),  # 5e-324, 1.7976931348623157e308, -0.0
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | NUMBERS | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=25,
)
PAYLOADS = st.dictionaries(TEXT, JSON_VALUES, min_size=1, max_size=6)


def exact(text: str) -> Any:
    """JSON with every number as the Decimal of its text: equal means equal digits."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


@pytest.fixture(scope="module")
def producer(server: Server) -> ApiClient:
    return make_client(server)


def post_raw(client: ApiClient, body: str) -> Any:
    return client.post(
        "/v1/events", data=body.encode("utf-8"), headers={"Content-Type": "application/json"}
    )


@HTTP_EXAMPLES
@given(payload=PAYLOADS)
def test_any_payload_comes_back_exactly(producer: ApiClient, payload: dict[str, Any]) -> None:
    body = json.dumps({"source": "fuzz", "event_type": "roundtrip", "payload": payload})

    created = post_raw(producer, body)
    assert created.status_code == 201, created.text
    fetched = producer.get(f"/v1/events/{created.json()['event_id']}")

    assert fetched.status_code == 200
    assert exact(fetched.text)["payload"] == exact(body)["payload"]


@HTTP_EXAMPLES
@given(
    prefix=TEXT,
    surrogate=st.integers(min_value=0xD800, max_value=0xDFFF),
    where=st.sampled_from(["value", "key"]),
)
def test_a_lone_surrogate_is_a_400_not_a_500(
    producer: ApiClient, prefix: str, surrogate: int, where: str
) -> None:
    text = json.dumps(prefix)[:-1] + f"\\u{surrogate:04x}" + '"'
    payload = f'{{"k": {text}}}' if where == "value" else f"{{{text}: 1}}"
    body = f'{{"source": "fuzz", "event_type": "surrogate", "payload": {payload}}}'

    error = assert_error(post_raw(producer, body), 400, "VALIDATION_ERROR")
    assert error["details"]["payload"] == ["Contains text that is not valid Unicode."]


def nested(depth: int) -> str:
    """A payload nested `depth` levels deep: an object (level 1) holding arrays in arrays."""
    return '{"a":' + "[" * (depth - 1) + "1" + "]" * (depth - 1) + "}"


def test_nesting_up_to_the_limit_round_trips(producer: ApiClient) -> None:
    body = f'{{"source": "fuzz", "event_type": "deep", "payload": {nested(MAX_NESTING)}}}'
    created = post_raw(producer, body)
    assert created.status_code == 201, created.text
    fetched = producer.get(f"/v1/events/{created.json()['event_id']}")
    assert exact(fetched.text)["payload"] == exact(body)["payload"]


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 600, 5_000, 50_000])
def test_nesting_past_the_limit_is_a_clear_400(producer: ApiClient, depth: int) -> None:
    body = f'{{"source": "fuzz", "event_type": "deep", "payload": {nested(depth)}}}'
    error = assert_error(post_raw(producer, body), 400, "VALIDATION_ERROR")
    assert f"more than {MAX_NESTING} levels deep" in json.dumps(error)


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 5_000])
def test_a_batch_event_nested_too_deep_fails_alone(producer: ApiClient, depth: int) -> None:
    good = '{"source": "fuzz", "event_type": "ok", "payload": {"n": 1}}'
    deep = f'{{"source": "fuzz", "event_type": "deep", "payload": {nested(depth)}}}'
    response = producer.post(
        "/v1/events/batch",
        data=f'{{"events": [{good}, {deep}]}}'.encode(),
        headers={"Content-Type": "application/json"},
    )
    if depth > 900:  # past what the JSON parser itself nests: the whole body is refused
        assert_error(response, 400, "VALIDATION_ERROR")
        return
    assert response.status_code == 200, response.text
    first, second = response.json()["results"]
    assert first["status"] == "pending"
    assert second["error"]["code"] == "VALIDATION_ERROR"


NUMBER_TOKENS = st.from_regex(
    r"-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,4})?", fullmatch=True
)


@HTTP_EXAMPLES
@given(tokens=st.lists(NUMBER_TOKENS, min_size=1, max_size=5))
def test_number_tokens_come_back_as_sent(producer: ApiClient, tokens: list[str]) -> None:
    payload = '{"n":[' + ",".join(tokens) + "]}"
    body = f'{{"source": "fuzz", "event_type": "numbers", "payload": {payload}}}'
    created = post_raw(producer, body)
    assert created.status_code == 201, created.text
    fetched = producer.get(f"/v1/events/{created.json()['event_id']}")
    assert f'"payload":{payload}' in fetched.text


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("1e99999999999999999999", "has an exponent out of range"),
        ("-1e-99999999999999999999", "has an exponent out of range"),
        ("9" * (MAX_NUMBER_DIGITS + 1), f"has more than {MAX_NUMBER_DIGITS} digits"),
    ],
)
def test_a_number_past_the_limits_is_a_400_naming_it(
    producer: ApiClient, token: str, problem: str
) -> None:
    payload = f'{{"a": {{"b": [1, {token}]}}}}'
    body = f'{{"source": "fuzz", "event_type": "numbers", "payload": {payload}}}'
    error = assert_error(post_raw(producer, body), 400, "VALIDATION_ERROR")
    (message,) = error["details"]["payload"]
    assert message.startswith(f"The number at a.b[1] {problem}.")

    batch = f'{{"events": [{body}, {{"source": "s", "event_type": "t", "payload": {{"n": 1}}}}]}}'
    response = producer.post(
        "/v1/events/batch", data=batch.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    refused, stored = response.json()["results"]
    assert refused["error"]["code"] == "VALIDATION_ERROR"
    assert refused["error"]["details"]["payload"] == [message]
    assert stored["status"] == "pending"


def test_the_longest_number_allowed_round_trips(producer: ApiClient) -> None:
    payload = '{"n":' + "9" * MAX_NUMBER_DIGITS + "}"
    created = post_raw(producer, f'{{"source": "s", "event_type": "t", "payload": {payload}}}')
    assert created.status_code == 201, created.text
    fetched = producer.get(f"/v1/events/{created.json()['event_id']}")
    assert json.loads(fetched.text)["payload"]["n"] == int("9" * MAX_NUMBER_DIGITS)

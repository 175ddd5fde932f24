from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triggers.core.jsoncodec import (
    MAX_NUMBER_DIGITS,
    JSONNumberError,
    JSONTextError,
    dumps_exact,
    find_number_problem,
    loads_exact,
    number_problem,
)


@pytest.mark.parametrize(
    "text",
    [
        b'{"big":123456789012345678901234567890,"neg":-0,"dec":1.10,"exp":1E+5}',
        '{"unicode":"caf\u00e9 \U0001f600 \u4e2d\u6587","nested":{"a":[1,{"b":null}]}}'.encode(),
        b'{"t":true,"f":false,"n":null,"s":"line\\nbreak \\"quoted\\""}',
    ],
)
def test_compact_json_round_trips_byte_for_byte(text: bytes) -> None:
    assert dumps_exact(loads_exact(text)) == text


@pytest.mark.parametrize("text", [b'{"x": NaN}', b'{"x": Infinity}', b'{"x": -Infinity}'])
def test_non_finite_numbers_are_rejected(text: bytes) -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        loads_exact(text)


def test_lone_surrogate_cannot_be_written() -> None:
    value = loads_exact(b'{"x": "\\ud800"}')
    with pytest.raises(JSONTextError):
        dumps_exact(value)


@given(
    token=st.from_regex(
        r"-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,5})?", fullmatch=True
    )
)
def test_every_number_token_is_written_back_as_sent(token: str) -> None:
    text = f'{{"n":{token},"list":[{token}]}}'.encode()
    assert dumps_exact(loads_exact(text)) == text


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("1e99999999999999999999", "has an exponent out of range"),
        ("-1e-99999999999999999999", "has an exponent out of range"),
        ("1" * (MAX_NUMBER_DIGITS + 1), f"has more than {MAX_NUMBER_DIGITS} digits"),
        ("0." + "1" * MAX_NUMBER_DIGITS, f"has more than {MAX_NUMBER_DIGITS} digits"),
    ],
)
def test_a_number_that_cannot_be_read_back_cannot_be_written(token: str, problem: str) -> None:
    value = loads_exact(f'{{"a":{{"b":[1,{token}]}}}}'.encode())
    with pytest.raises(JSONNumberError, match=problem):
        dumps_exact(value)
    assert find_number_problem(value) == f"a.b[1] {problem}"


@pytest.mark.parametrize("token", ["1" * MAX_NUMBER_DIGITS, "1e999999999999999999", "-0.0e-0"])
def test_numbers_at_the_limits_are_written(token: str) -> None:
    text = f"[{token}]".encode()
    assert dumps_exact(loads_exact(text)) == text
    assert number_problem(token) is None


def test_repeated_small_numbers_share_one_object() -> None:
    first, second, large, other_large = loads_exact(b"[100,100,1000,1000]")
    assert first is second
    assert large == other_large
    assert large is not other_large

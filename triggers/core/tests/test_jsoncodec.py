from __future__ import annotations

import pytest

from triggers.core.jsoncodec import JSONTextError, dumps_exact, loads_exact


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

"""The hot path's event validation gives the serializer's answers (events/validation.py)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.serializers import EventInSerializer
from events.validation import plainly_valid_event, validate_batch_events, validated_event
from triggers.core.jsoncodec import JSONNumber

# Strings near every edge the serializer checks: blank, trimmed, lengths 100/101 and
# 255/256, NUL, lone surrogates, the priorities, idempotency-key characters.
EDGES = st.sampled_from(
    [
        "", " ", "\t\n", "x", "  x  ", "\x00", "a\x00b", "\ud800", "a\udfff", "é", "\u3000x\u3000",
        "a" * 100, " " + "a" * 100 + " ", "a" * 101, "k" * 255, "k" * 256, " k ",
        "low", "normal", "high", " normal", "NORMAL", "urgent",
        "key-1", "key with space", "k\n", "ключ", "~!@#",
    ]
)  # fmt: skip
TEXT = st.one_of(EDGES, st.text(alphabet=st.characters(exclude_categories=()), max_size=8))
NUMBERS = st.integers().map(lambda n: JSONNumber(str(n)))
SCALARS = st.one_of(TEXT, NUMBERS, st.booleans(), st.none(), st.just(JSONNumber("1.50")))
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6,
)
METADATA = st.one_of(
    st.fixed_dictionaries(
        {}, optional={"correlation_id": SCALARS, "priority": SCALARS, "idempotency_key": SCALARS}
    ),
    st.fixed_dictionaries({"other": SCALARS}),
    JSON,
)
EVENTS = st.one_of(
    st.fixed_dictionaries(
        {"source": TEXT, "event_type": TEXT, "payload": st.dictionaries(TEXT, JSON, max_size=3)},
        optional={"metadata": METADATA},
    ),
    st.fixed_dictionaries(
        {},
        optional={
            "source": SCALARS,
            "event_type": SCALARS,
            "payload": JSON,
            "metadata": METADATA,
            "extra": SCALARS,
        },
    ),
    JSON,
)


def serializer_answer(data: Any) -> dict[str, Any] | None:
    checked = EventInSerializer(data=data)
    if not checked.is_valid():
        return None
    validated = dict(checked.validated_data)
    if "metadata" in validated:
        validated["metadata"] = dict(validated["metadata"])
    return validated


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EVENTS)
def test_the_fast_path_accepts_exactly_what_the_serializer_accepts(data: Any) -> None:
    assert plainly_valid_event(data) == serializer_answer(data)


TYPICAL = [
    {"source": "billing", "event_type": "invoice.paid", "payload": {"n": JSONNumber("1")}},
    {
        "source": "  billing  ",
        "event_type": "invoice.paid",
        "payload": {"nested": {"list": [JSONNumber("1.5e0"), None, True, "é"]}},
        "metadata": {"priority": "high", "correlation_id": " c-1 ", "idempotency_key": "k-1"},
    },
    {"source": "s", "event_type": "t", "payload": {"a": "b"}, "metadata": {}},
]


def test_typical_events_take_the_fast_path() -> None:
    for event in TYPICAL:
        fast = plainly_valid_event(event)
        assert fast is not None
        assert fast == serializer_answer(event)
        assert validated_event(event) == fast


def test_a_batch_event_with_a_lone_surrogate_is_that_events_validation_error() -> None:
    event = {"source": "s\ud800", "event_type": "t", "payload": {"a": "\ud800"}}

    [result] = validate_batch_events([event])

    assert result["error"]["code"] == "VALIDATION_ERROR"
    assert set(result["error"]["details"]) == {"source", "payload"}

"""Serializer building blocks shared by the apps: strict types, no silent coercion."""

from __future__ import annotations

from typing import Any

import orjson
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from triggers.core.jsoncodec import (
    MAX_NESTING,
    MAX_NUMBER_DIGITS,
    JSONNestingError,
    JSONNumberError,
    JSONTextError,
    dumps_exact,
    find_number_problem,
)


# Rejects top-level fields it does not declare, instead of silently dropping them.
# (A comment, not a docstring: subclasses would inherit it as their OpenAPI description.)
class StrictSerializer(serializers.Serializer[Any]):
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field."] for name in unknown}, code="unknown_field"
                )
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A string, and only a string: 42 or true is a type error, not "42" or "True"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# What DRF's CharField refuses in any text: NUL, and lone UTF-16 surrogates.
_REFUSED = r"\x00\ud800-\udfff"


def trimmed_text_pattern(max_length: int, core: str | None = None) -> str:
    """The JSON-schema pattern of text that is trimmed, then must be 1-`max_length`
    characters (of `core`, a character class, if given): the exact rule, where a
    `maxLength` would count the spaces a client may send around it."""
    if core is not None:
        return rf"^\s*{core}{{1,{max_length}}}\s*$"
    edge, inner = rf"[^\s{_REFUSED}]", rf"[^{_REFUSED}]"
    return rf"^\s*(?:{edge}|{edge}{inner}{{0,{max_length - 2}}}{edge})\s*$"


def trimmed_text_field(
    *, max_length: int, core: str | None = None, **kwargs: Any
) -> StrictCharField:
    """A StrictCharField (trimmed, 1-`max_length` characters after) whose schema says so."""
    field = StrictCharField(max_length=max_length, **kwargs)
    schema = {"type": "string", "pattern": trimmed_text_pattern(max_length, core)}
    documented: StrictCharField = extend_schema_field(schema)(field)  # type: ignore[type-var]  # an instance: this field only
    return documented


@extend_schema_field(
    {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": True,
        "description": (
            f"A non-empty JSON object, nested at most {MAX_NESTING} levels deep. Numbers come "
            f"back as the exact token sent; a number may have at most {MAX_NUMBER_DIGITS} digits "
            "and an exponent a decimal can hold. Text must be valid Unicode."
        ),
    }
)
class JSONObjectTextField(serializers.Field[str, Any, Any, Any]):
    """A non-empty JSON object in; its compact JSON text (number tokens verbatim) out."""

    default_error_messages = {
        "not_object": "Must be a JSON object.",
        "empty": "Must not be empty.",
        "unencodable": "Contains text that is not valid Unicode.",
        "too_deep": f"Nested more than {MAX_NESTING} levels deep.",
        "bad_number": (
            "The number at {where}. Numbers may have at most "
            f"{MAX_NUMBER_DIGITS} digits and an exponent a decimal can hold."
        ),
    }

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, dict):
            self.fail("not_object")
        if not data:
            self.fail("empty")
        try:
            return dumps_exact(data).decode("utf-8")
        except JSONNestingError:
            self.fail("too_deep")
        except JSONNumberError:
            self.fail("bad_number", where=find_number_problem(data))
        except JSONTextError:
            self.fail("unencodable")

    def to_representation(self, value: Any) -> Any:
        raise NotImplementedError("input-only field")


@extend_schema_field(OpenApiTypes.ANY)
class JSONValueField(serializers.Field[Any, Any, Any, Any]):
    """Any JSON value, as parsed (numbers as JSONNumber tokens); validated elsewhere."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(OpenApiTypes.OBJECT)
class RawJSONField(serializers.Field[Any, str, Any, Any]):
    """Output-only: stored JSON text, embedded in the response as-is (no re-parsing)."""

    def to_representation(self, value: str) -> orjson.Fragment:
        return orjson.Fragment(value)

    def to_internal_value(self, data: Any) -> Any:
        raise NotImplementedError("output-only field")


class ErrorSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()
    request_id = serializers.CharField()


class ErrorEnvelopeSerializer(serializers.Serializer[Any]):
    """Every error response: `{"error": {code, message, details, request_id}}`."""

    error = ErrorSerializer()

"""Exact JSON: numbers keep their text (big integers, decimals as written) in and out.

Parsing uses the standard library with every number as a Decimal of its exact
text; serializing uses orjson and writes those Decimals back verbatim, so a
payload round-trips byte-for-byte as compact JSON.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, NoReturn

import orjson

__all__ = ["MAX_NESTING", "JSONNestingError", "JSONTextError", "dumps_exact", "loads_exact"]

# How deep a value may nest (objects and arrays): as deep as orjson writes.
MAX_NESTING = 254


class JSONTextError(ValueError):
    """A value that cannot be written as JSON (e.g. a lone UTF-16 surrogate)."""


class JSONNestingError(JSONTextError):
    """A value nested more than MAX_NESTING levels deep."""


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def loads_exact(raw: bytes) -> Any:
    """Parse JSON; NaN and Infinity are rejected. Raises UnicodeDecodeError or ValueError
    (JSONNestingError for nesting too deep for the parser itself, about 1,000 levels)."""
    try:
        return json.loads(
            raw.decode("utf-8"),
            parse_float=Decimal,
            parse_int=Decimal,
            parse_constant=_reject_constant,
        )
    except RecursionError:
        raise JSONNestingError(f"nested more than {MAX_NESTING} levels deep") from None


def _default(value: Any) -> Any:
    if isinstance(value, Decimal) and value.is_finite():
        return orjson.Fragment(str(value))
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps_exact(value: Any) -> bytes:
    try:
        return orjson.dumps(value, default=_default)
    except orjson.JSONEncodeError as exc:
        if "recursion limit" in str(exc).lower():
            raise JSONNestingError(f"nested more than {MAX_NESTING} levels deep") from None
        raise JSONTextError(str(exc)) from None

"""Exact JSON: every number keeps the token it was sent as, in and out.

Parsing uses the standard library with every number kept as a `JSONNumber`, its exact
token (`1.5e-3` stays `1.5e-3`, a 40-digit integer stays exact); serializing uses orjson
and writes each token back verbatim, so a payload round-trips as compact JSON with the
same numbers. A token is only judged when it is written: one longer than
MAX_NUMBER_DIGITS digits, or whose exponent no decimal type holds, cannot be written
(`JSONNumberError`), so no number the service stores is one a client cannot read back.
"""

from __future__ import annotations

import decimal
import json
from typing import Any, Final, NoReturn

import orjson

__all__ = [
    "MAX_NESTING",
    "MAX_NUMBER_DIGITS",
    "JSONNestingError",
    "JSONNumber",
    "JSONNumberError",
    "JSONTextError",
    "dumps_exact",
    "find_number_problem",
    "loads_exact",
    "number_problem",
]

# How deep a value may nest (objects and arrays): as deep as orjson writes.
MAX_NESTING: Final = 254
# Digits a number may have: what Python's own json reads back as an int (4,300).
MAX_NUMBER_DIGITS: Final = 4300
# A token this short has too few digits to pass either limit.
_SURELY_FINE_LENGTH: Final = 18
_SMALL_TOKEN_LENGTH: Final = 3


class JSONTextError(ValueError):
    """A value that cannot be written as JSON (e.g. a lone UTF-16 surrogate)."""


class JSONNestingError(JSONTextError):
    """A value nested more than MAX_NESTING levels deep."""


class JSONNumberError(JSONTextError):
    """A number too long, or too large or small, to be written back."""


class JSONNumber:
    """A JSON number as the exact token sent (`str()` gives it back)."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __str__(self) -> str:
        return self.token

    def __repr__(self) -> str:
        return f"JSONNumber({self.token!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JSONNumber) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)


def number_problem(token: str) -> str | None:
    """Why a number token cannot be stored, or None when it can."""
    if len(token) <= _SURELY_FINE_LENGTH:
        return None
    mantissa = token.lower().partition("e")[0]
    if sum(character.isdigit() for character in mantissa) > MAX_NUMBER_DIGITS:
        return f"has more than {MAX_NUMBER_DIGITS} digits"
    try:
        decimal.Decimal(token)
    except decimal.InvalidOperation:
        return "has an exponent out of range"
    return None


def find_number_problem(value: Any, path: str = "") -> str | None:
    """Where in `value` the first number that cannot be stored is, and why
    (`"a.b[2] has more than 4300 digits"`), or None."""
    if isinstance(value, JSONNumber):
        problem = number_problem(value.token)
        return None if problem is None else f"{path or 'the value'} {problem}"
    if isinstance(value, dict):
        children: Any = ((f"{path}.{key}" if path else str(key), v) for key, v in value.items())
    elif isinstance(value, list):
        children = ((f"{path}[{index}]", v) for index, v in enumerate(value))
    else:
        return None
    for child_path, child in children:
        found = find_number_problem(child, child_path)
        if found is not None:
            return found
    return None


# Tokens of at most three characters ("0", "-1", "100") are shared, not made per
# occurrence: a body of `[0,0,0,…]` costs a pointer per number, not an object.
_SMALL_NUMBERS: dict[str, JSONNumber] = {}


def _number(token: str) -> JSONNumber:
    if len(token) > _SMALL_TOKEN_LENGTH:
        return JSONNumber(token)
    number = _SMALL_NUMBERS.get(token)
    if number is None:
        number = _SMALL_NUMBERS.setdefault(token, JSONNumber(token))
    return number


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def loads_exact(raw: bytes) -> Any:
    """Parse JSON, every number as a JSONNumber; NaN and Infinity are rejected. Raises
    UnicodeDecodeError or ValueError (JSONNestingError for nesting too deep for the
    parser itself, about 1,000 levels)."""
    try:
        return json.loads(
            raw.decode("utf-8"),
            parse_float=_number,
            parse_int=_number,
            parse_constant=_reject_constant,
        )
    except RecursionError:
        raise JSONNestingError(f"nested more than {MAX_NESTING} levels deep") from None


def _default(value: Any) -> Any:
    if isinstance(value, JSONNumber):
        problem = number_problem(value.token)
        if problem is not None:
            raise JSONNumberError(f"a number {problem}")
        return orjson.Fragment(value.token)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps_exact(value: Any) -> bytes:
    """Compact JSON; JSONNumbers as their tokens. Raises JSONTextError (or a subclass)."""
    try:
        return orjson.dumps(value, default=_default)
    except orjson.JSONEncodeError as exc:
        if isinstance(exc.__cause__, JSONNumberError):
            raise exc.__cause__ from None
        if "recursion limit" in str(exc).lower():
            raise JSONNestingError(f"nested more than {MAX_NESTING} levels deep") from None
        raise JSONTextError(str(exc)) from None

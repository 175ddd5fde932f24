"""Typed readers for environment variables that fail loudly on bad values.

Every variable the service reads goes through one of these, so a typo in a
deployment surfaces as ImproperlyConfigured at startup, not as odd behaviour
under load.
"""

from __future__ import annotations

import os
from typing import TypeVar

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"Environment variable {name} is required.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}.")


_Number = TypeVar("_Number", int, float)


def _env_number(
    name: str,
    default: _Number,
    *,
    parse: type[_Number],
    kind: str,
    minimum: _Number,
    maximum: _Number | None,
) -> _Number:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = parse(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {kind}, got {value!r}.") from None
    if number < minimum or (maximum is not None and number > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        raise ImproperlyConfigured(f"{name} must be at least {minimum}{upper}, got {number}.")
    return number


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    return _env_number(
        name, default, parse=int, kind="an integer", minimum=minimum, maximum=maximum
    )


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    return _env_number(name, default, parse=float, kind="a number", minimum=minimum, maximum=None)


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of `choices`, matched regardless of case (`info` is `INFO`)."""
    value = env_str(name, default)
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; got {value!r}.")


def comma_separated(text: str) -> list[str]:
    """`a, b,,c` -> ["a", "b", "c"]: the one way a list is written in a variable."""
    return [item.strip() for item in text.split(",") if item.strip()]


def env_list(name: str, default: str) -> list[str]:
    return comma_separated(env_str(name, default))

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from triggers.core.env import env_bool, env_choice, env_int, env_str


def test_missing_required_variable_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIGGERS_X", raising=False)
    with pytest.raises(ImproperlyConfigured, match="TRIGGERS_X is required"):
        env_str("TRIGGERS_X")


@pytest.mark.parametrize("raw", ["maybe", "2", "yes please"])
def test_bad_boolean_fails_loudly(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("TRIGGERS_X", raw)
    with pytest.raises(ImproperlyConfigured, match="TRIGGERS_X must be a boolean"):
        env_bool("TRIGGERS_X", default=False)


def test_integer_bounds_are_enforced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIGGERS_X", "5")
    assert env_int("TRIGGERS_X", 1, minimum=1, maximum=10) == 5
    monkeypatch.setenv("TRIGGERS_X", "50")
    with pytest.raises(ImproperlyConfigured, match="at most 10"):
        env_int("TRIGGERS_X", 1, minimum=1, maximum=10)
    monkeypatch.setenv("TRIGGERS_X", "ten")
    with pytest.raises(ImproperlyConfigured, match="must be an integer"):
        env_int("TRIGGERS_X", 1)


def test_choice_outside_the_list_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIGGERS_X", "xml")
    with pytest.raises(ImproperlyConfigured, match="one of json, console"):
        env_choice("TRIGGERS_X", "json", ("json", "console"))

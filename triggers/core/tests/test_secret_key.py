"""The rotation's steps against the one rule that matters: while a step rolls out, every
state an instance may hold accepts every key any instance may be signing with."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triggers.core.secret_key import (
    RotationError,
    SigningKeys,
    Stage,
    Write,
    promote,
    stage,
)

KEYS = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=8)


def states_while_rolling_out(start: SigningKeys, writes: list[Write]) -> list[SigningKeys]:
    """What instances may hold while the step's writes land and every instance is then
    refreshed: the state before (not yet refreshed), and the state after each write (an
    instance that starts, or is refreshed, at that moment)."""
    states = [start]
    for write in writes:
        states.append(write.applied_to(states[-1]))
    return states


def assert_no_token_is_refused(states: list[SigningKeys]) -> None:
    signing = {state.key for state in states}
    for state in states:
        assert signing <= state.accepts(), f"{state} refuses what another instance signs"


@given(key=KEYS, fallback=KEYS, new=KEYS)
def test_a_whole_rotation_never_refuses_what_an_instance_signed(
    key: str, fallback: str, new: str
) -> None:
    if len({key, fallback, new}) < 3:
        return
    settled = SigningKeys(key=key, fallbacks=(fallback,))

    # WHEN it is staged and every instance refreshed
    staging = stage(settled, new_key=new)
    assert_no_token_is_refused(states_while_rolling_out(settled, staging))
    staged = states_while_rolling_out(settled, staging)[-1]
    # THEN every instance accepts the new key, and still signs with the old one
    assert staged.stage is Stage.STAGED
    assert (staged.key, new in staged.accepts()) == (key, True)

    # WHEN it is promoted and every instance refreshed
    promoting = promote(staged)
    assert_no_token_is_refused(states_while_rolling_out(staged, promoting))
    promoted = states_while_rolling_out(staged, promoting)[-1]
    # THEN the new key signs, what the old one signed is still accepted, and nothing else
    assert promoted == SigningKeys(key=new, fallbacks=(key,))
    assert promoted.stage is Stage.SETTLED


def test_a_promotion_stopped_half_way_is_finished_by_running_it_again() -> None:
    staged = SigningKeys(key="old", fallbacks=("new", "old"))
    first, _ = promote(staged)
    half_way = first.applied_to(staged)
    assert half_way.stage is Stage.PROMOTED

    rest = promote(half_way)

    assert_no_token_is_refused(states_while_rolling_out(half_way, rest))
    assert states_while_rolling_out(half_way, rest)[-1] == SigningKeys("new", ("old",))


def test_staging_again_changes_nothing() -> None:
    staged = SigningKeys(key="old", fallbacks=("new", "old"))
    assert stage(staged, new_key="newer") == []


@pytest.mark.parametrize(
    ("keys", "step", "message"),
    [
        (SigningKeys("old", ("older",)), promote, "No rotation is staged"),
        (SigningKeys("new", ("new", "old")), lambda k: stage(k, new_key="x"), "run promote"),
        (SigningKeys("old", ("older",)), lambda k: stage(k, new_key="older"), "must differ"),
    ],
)
def test_a_step_out_of_order_is_refused_with_what_to_do(
    keys: SigningKeys, step: object, message: str
) -> None:
    with pytest.raises(RotationError, match=message):
        step(keys)  # type: ignore[operator]


def test_promoting_with_the_writes_in_the_other_order_would_refuse_tokens() -> None:
    # The rule the tests above hold the steps to is one a wrong order breaks: the new key
    # out of the fallbacks before it is the key, and an instance started in between
    # refuses what the refreshed ones sign.
    staged = SigningKeys(key="old", fallbacks=("new", "old"))
    wrong = [Write("fallbacks", "old"), Write("key", "new")]
    with pytest.raises(AssertionError, match="refuses"):
        assert_no_token_is_refused(states_while_rolling_out(staged, wrong))

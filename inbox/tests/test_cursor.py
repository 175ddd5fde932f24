from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inbox.cursor import decode_cursor, encode_cursor
from inbox.queue import Position
from triggers.auth.services import TENANT_ID_PATTERN
from triggers.core.clock import format_timestamp
from triggers.core.errors import ValidationFailedError

CREATED_KEY = "2026-11-26T18:44:51.123456Z#0b7c3f0e-8a3e-4c1f-9d2a-3b4c5d6e7f80"
HEAD = Position(CREATED_KEY, CREATED_KEY)  # an event never leased: one key in both


def test_cursor_round_trips_and_is_url_safe() -> None:
    cursor = encode_cursor(tenant_id="acme", position=HEAD)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert decode_cursor(cursor, tenant_id="acme") == HEAD


def test_tampered_cursor_is_rejected() -> None:
    cursor = encode_cursor(tenant_id="acme", position=HEAD)
    payload, _, signature = cursor.partition(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    with pytest.raises(ValidationFailedError):
        decode_cursor(forged, tenant_id="acme")


@pytest.mark.parametrize("cut", [1, 5, 20])
def test_truncated_cursor_is_rejected(cut: int) -> None:
    cursor = encode_cursor(tenant_id="acme", position=HEAD)
    with pytest.raises(ValidationFailedError):
        decode_cursor(cursor[:-cut], tenant_id="acme")


def test_another_tenants_cursor_is_rejected() -> None:
    cursor = encode_cursor(tenant_id="acme", position=HEAD)
    with pytest.raises(ValidationFailedError):
        decode_cursor(cursor, tenant_id="globex")


@pytest.mark.parametrize("garbage", ["", "abc", "....", "eyJ0IjoiYWNtZSJ9.xyz", "\u00e9\u00e9"])
def test_garbage_is_rejected(garbage: str) -> None:
    with pytest.raises(ValidationFailedError):
        decode_cursor(garbage, tenant_id="acme")


# --- properties (hypothesis) -------------------------------------------------------------

TENANT_IDS = st.from_regex(TENANT_ID_PATTERN, fullmatch=True)
CREATED_KEYS = st.builds(
    lambda moment, event_id: f"{format_timestamp(moment)}#{event_id}",
    st.datetimes(min_value=datetime(2000, 1, 1), timezones=st.just(UTC)),
    st.uuids(),
)


POSITIONS = st.builds(Position, CREATED_KEYS, CREATED_KEYS)


def test_a_cursor_of_the_release_before_leases_reads_as_the_same_position() -> None:
    # GIVEN a cursor as the previous release signed it: the table key alone
    from django.core import signing  # noqa: PLC0415 - as inbox.cursor signs

    old = signing.Signer(salt="triggers.inbox.cursor.v1", sep=".").sign_object(
        {"t": "acme", "k": CREATED_KEY}
    )
    # THEN it points after the same event: never leased, its key in the queue was the same
    assert decode_cursor(old, tenant_id="acme") == HEAD


@given(tenant_id=TENANT_IDS, position=POSITIONS)
def test_any_position_round_trips_for_its_tenant_only(tenant_id: str, position: Position) -> None:
    cursor = encode_cursor(tenant_id=tenant_id, position=position)
    assert len(cursor) <= 1024  # the API's cursor limit
    assert decode_cursor(cursor, tenant_id=tenant_id) == position
    with pytest.raises(ValidationFailedError):
        decode_cursor(cursor, tenant_id=tenant_id + "x")


@given(text=st.text(st.characters(codec=None)))  # anything, lone surrogates and NUL included
def test_any_text_is_a_clear_rejection_never_a_crash(text: str) -> None:
    with pytest.raises(ValidationFailedError):
        decode_cursor(text, tenant_id="acme")


@given(position=POSITIONS, data=st.data())
def test_any_change_to_a_cursor_is_rejected(position: Position, data: st.DataObject) -> None:
    cursor = encode_cursor(tenant_id="acme", position=position)
    at = data.draw(st.integers(min_value=0, max_value=len(cursor) - 1))
    replacement = data.draw(st.characters(codec="ascii").filter(lambda c: c != cursor[at]))
    changed = cursor[:at] + replacement + cursor[at + 1 :]
    try:
        decoded = decode_cursor(changed, tenant_id="acme")
    except ValidationFailedError:
        return
    # base64 ignores nothing, but a padding-like change may decode to the same bytes:
    # then it must point exactly where the genuine cursor did
    assert decoded == position

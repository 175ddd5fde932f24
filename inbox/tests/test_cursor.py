from __future__ import annotations

import pytest

from inbox.cursor import decode_cursor, encode_cursor
from triggers.exceptions import ValidationFailedError

CREATED_KEY = "2026-11-26T18:44:51.123456Z#0b7c3f0e-8a3e-4c1f-9d2a-3b4c5d6e7f80"


def test_cursor_round_trips_and_is_url_safe() -> None:
    cursor = encode_cursor(tenant_id="acme", created_key=CREATED_KEY)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert decode_cursor(cursor, tenant_id="acme") == CREATED_KEY


def test_tampered_cursor_is_rejected() -> None:
    cursor = encode_cursor(tenant_id="acme", created_key=CREATED_KEY)
    payload, _, signature = cursor.partition(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    with pytest.raises(ValidationFailedError):
        decode_cursor(forged, tenant_id="acme")


@pytest.mark.parametrize("cut", [1, 5, 20])
def test_truncated_cursor_is_rejected(cut: int) -> None:
    cursor = encode_cursor(tenant_id="acme", created_key=CREATED_KEY)
    with pytest.raises(ValidationFailedError):
        decode_cursor(cursor[:-cut], tenant_id="acme")


def test_another_tenants_cursor_is_rejected() -> None:
    cursor = encode_cursor(tenant_id="acme", created_key=CREATED_KEY)
    with pytest.raises(ValidationFailedError):
        decode_cursor(cursor, tenant_id="globex")


@pytest.mark.parametrize("garbage", ["", "abc", "....", "eyJ0IjoiYWNtZSJ9.xyz", "\u00e9\u00e9"])
def test_garbage_is_rejected(garbage: str) -> None:
    with pytest.raises(ValidationFailedError):
        decode_cursor(garbage, tenant_id="acme")

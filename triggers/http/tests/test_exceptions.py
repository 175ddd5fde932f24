"""The error envelope renders whatever DRF reports, as JSON a client can read."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError

from triggers.http.content import JSONRenderer
from triggers.http.exceptions import api_exception_handler


def test_errors_keyed_by_list_position_render_with_string_keys() -> None:
    # DRF reports a list's item errors under the item's position, an int
    exc = ValidationError({"events": {0: ["Bad item."], 3: {"source": ["Required."]}}})

    response = api_exception_handler(exc, {})

    assert response.status_code == 400
    assert response.data["error"]["details"] == {
        "events": {"0": ["Bad item."], "3": {"source": ["Required."]}}
    }
    assert JSONRenderer().render(response.data).startswith(b'{"error":')

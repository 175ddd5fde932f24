"""Which address the logs call the client's, behind trusted proxies or none."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from observability.middleware import client_ip


@pytest.mark.parametrize(
    ("trusted", "forwarded", "expected"),
    [
        (0, "", "10.0.0.9"),  # no proxy: the peer
        (0, "6.6.6.6", "10.0.0.9"),  # no proxy trusted: a header proves nothing
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the client's own claim, ignored
        (2, "203.0.113.7, 172.31.4.2", "203.0.113.7"),  # load balancer + nginx
        (2, "6.6.6.6, 7.7.7.7, 203.0.113.7, 172.31.4.2", "203.0.113.7"),
        (2, " 203.0.113.7 ,172.31.4.2 ", "203.0.113.7"),
        (2, "172.31.4.2", "10.0.0.9"),  # fewer hops than proxies: did not come through them
        (2, ", ,", "10.0.0.9"),
    ],
)
def test_the_client_is_the_hop_the_outermost_trusted_proxy_added(
    trusted: int, forwarded: str, expected: str
) -> None:
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", **headers)
    with override_settings(TRUSTED_PROXY_COUNT=trusted):
        assert client_ip(request) == expected

"""The monitoring spec keeps up with the routes: a new route is either watched (graphs and
alarms) or listed as unwatched with a reason."""

from __future__ import annotations

from devstack.testing import served_operations
from observability.spec import ENDPOINTS, UNWATCHED


def test_every_route_is_watched_or_says_why_not() -> None:
    watched = {spec.operation for spec in ENDPOINTS}
    served = served_operations()
    assert served - watched - set(UNWATCHED) == set(), "add it to ENDPOINTS or UNWATCHED"
    assert (watched | set(UNWATCHED)) - served == set(), "the spec names a route nobody serves"
    assert watched & set(UNWATCHED) == set()
    assert all(reason for reason in UNWATCHED.values())

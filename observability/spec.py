"""The declarative monitoring spec: which endpoints are watched, and their thresholds.

`observability/dashboard.py` and `observability/alarms.py` are both generated from
this one list; add an endpoint here and it gets its dashboard graphs and alarms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = [
    "DEAD_LETTER_POLICY",
    "ENDPOINTS",
    "ERROR_RATE_MAX_PCT",
    "LATENCY_POLICY",
    "OLDEST_PENDING_AGE_MAX_SECONDS",
    "RATE_LIMITED_MAX_PER_PERIOD",
    "RATE_POLICY",
    "SUCCESS_RATE_MIN_PCT",
    "UNWATCHED",
    "AlarmPolicy",
    "EndpointSpec",
]


@dataclass(frozen=True)
class EndpointSpec:
    endpoint: str  # the route template, as in the Endpoint dimension
    method: str
    title: str
    latency_p95_ms: float  # the performance targets (docs/PERFORMANCE.md)

    @property
    def operation(self) -> str:
        """`POST /v1/events`: the route as docs/API.md and the URL configuration name it."""
        return f"{self.method} {self.endpoint}"

    @property
    def slug(self) -> str:
        """`post-events`, `get-events-event-id`: for alarm names."""
        words = re.findall(r"[a-z0-9]+", self.endpoint.lower().removeprefix("/v1"))
        return "-".join([self.method.lower(), *words])


ENDPOINTS: Final = (
    EndpointSpec("/v1/events", "POST", "Ingest (POST /v1/events)", 100),
    EndpointSpec("/v1/events/batch", "POST", "Batch ingest (POST /v1/events/batch)", 300),
    EndpointSpec("/v1/inbox", "GET", "Inbox (GET /v1/inbox)", 200),
    EndpointSpec("/v1/events/{event_id}", "GET", "Lookup (GET /v1/events/{id})", 50),
    EndpointSpec("/v1/events/{event_id}/ack", "POST", "Ack (POST /v1/events/{id}/ack)", 100),
    EndpointSpec("/v1/events/{event_id}", "DELETE", "Delete (DELETE /v1/events/{id})", 100),
    EndpointSpec("/v1/inbox/lease", "POST", "Lease (POST /v1/inbox/lease)", 300),
    EndpointSpec("/v1/inbox/ack", "POST", "Ack leases (POST /v1/inbox/ack)", 300),
    EndpointSpec("/v1/inbox/extend", "POST", "Extend leases (POST /v1/inbox/extend)", 300),
    EndpointSpec("/v1/inbox/release", "POST", "Release leases (POST /v1/inbox/release)", 300),
)

# Routes the service serves that get no graphs or alarms of their own, and why. Every
# route is either in ENDPOINTS or here (observability/tests/test_spec.py checks it).
UNWATCHED: Final = {
    "GET /v1/health": "polled by monitoring; its failures are DynamoDB's, alarmed per endpoint",
    "GET /v1/health/live": "the load balancer's check; Elastic Beanstalk health watches it",
    "GET /v1/schema": "documentation",
    "GET /v1/docs": "documentation",
    "GET /v1/dead-letters": "read by people investigating; the DeadLetters alarm watches the queue",
    "POST /v1/dead-letters/redrive": "an operator's action, run by hand after a fix",
}

# The backlog alarm: the oldest event a lease or an inbox page returned is older than
# this (its Maximum per minute, 3 of the last 5 minutes). setup_alarms --backlog-age.
OLDEST_PENDING_AGE_MAX_SECONDS: Final = 300

# Success = answered without a server error (status < 500); alarm below this share.
SUCCESS_RATE_MIN_PCT: Final = 99.9
# Error = an unhandled exception (ErrorType INTERNAL_ERROR, i.e. a bug); alarm above this.
ERROR_RATE_MAX_PCT: Final = 0.1
# 429s (all keys together) per RATE_POLICY period above which someone should look: a
# client retrying without backing off, or a tenant whose limit is too low for its traffic.
RATE_LIMITED_MAX_PER_PERIOD: Final = 1000


@dataclass(frozen=True)
class AlarmPolicy:
    period_seconds: int
    evaluation_periods: int
    datapoints_to_alarm: int
    # No traffic is not an incident: periods without data count as "not breaching".
    treat_missing_data: str = "notBreaching"


# p95 per minute; 3 of the last 5 minutes above the threshold (one slow minute is noise).
LATENCY_POLICY: Final = AlarmPolicy(period_seconds=60, evaluation_periods=5, datapoints_to_alarm=3)
# Rates over 5 minutes, so that a period holds enough requests for 0.1 % to mean
# something; 2 of the last 3 periods.
RATE_POLICY: Final = AlarmPolicy(period_seconds=300, evaluation_periods=3, datapoints_to_alarm=2)
# Any dead letter: one period is enough.
DEAD_LETTER_POLICY: Final = AlarmPolicy(
    period_seconds=300, evaluation_periods=1, datapoints_to_alarm=1
)

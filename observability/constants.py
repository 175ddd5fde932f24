"""Metric names, dimension keys and units: the one list the service, the dashboard,
the alarms and the docs all refer to."""

from __future__ import annotations

from typing import Final

NAMESPACE_PREFIX: Final = "TriggersAPI"

# Metric names
REQUESTS: Final = "Requests"
LATENCY: Final = "Latency"
SUCCESS: Final = "Success"
ERRORS: Final = "Errors"
EVENTS_INGESTED: Final = "EventsIngested"
EVENT_LOOKUPS: Final = "EventLookups"
SERVICE_UNAVAILABLE: Final = "ServiceUnavailable"
READ_BUDGET_EXHAUSTED: Final = "ReadBudgetExhausted"
INDEX_FALLBACKS: Final = "IndexFallbacks"
RATE_LIMITED: Final = "RateLimited"
# Consumer leases (docs/METRICS.md): each counts events, not requests.
LEASES_GRANTED: Final = "LeasesGranted"
LEASE_EXPIRIES: Final = "LeaseExpiries"  # leased again after a lease ran out: redeliveries
LEASE_RELEASES: Final = "LeaseReleases"
DEAD_LETTERS: Final = "DeadLetters"
REDRIVES: Final = "Redrives"
# The age of the oldest event a lease or an inbox page returned (Maximum per minute).
OLDEST_PENDING_AGE: Final = "OldestPendingAge"
METRICS_DROPPED: Final = "MetricsDropped"
METRICS_PUBLISH_FAILURES: Final = "MetricsPublishFailures"

# Dimension keys
ENDPOINT: Final = "Endpoint"
METHOD: Final = "Method"
ERROR_TYPE: Final = "ErrorType"
LOOKUP_METHOD: Final = "LookupMethod"
CAUSE: Final = "Cause"  # of a 503 (triggers.core.errors.UnavailableCause)
OPERATION: Final = "Operation"  # a budgeted read: one of the READ_ values below
INDEX: Final = "Index"  # a GSI a read could not use

# Units
COUNT: Final = "Count"
MILLISECONDS: Final = "Milliseconds"
SECONDS: Final = "Seconds"

# The ErrorType of an unhandled exception: the error-rate alarm counts only these (bugs);
# 503s (DynamoDB throttled/unreachable) lower the success rate instead.
INTERNAL_ERROR_TYPE: Final = "INTERNAL_ERROR"
# The ErrorType of a request that died with its worker, killed by gunicorn's timeout.
WORKER_TIMEOUT_ERROR_TYPE: Final = "WORKER_TIMEOUT"

# Values of the LookupMethod dimension: how a lookup by event id was served.
LOOKUP_KEY: Final = "key"  # a UUIDv7 id gives the item's key: one GetItem
LOOKUP_GSI: Final = "gsi"
LOOKUP_SCAN: Final = "scan"

# Values of the Operation dimension: reads that run within a DynamoDB read budget.
READ_INBOX: Final = "inbox"
READ_DEAD_LETTERS: Final = "dead_letters"
READ_LEASE: Final = "lease"
READ_LOOKUP_SCAN: Final = "lookup_scan"

KNOWN_METHODS: Final = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
OTHER_METHOD: Final = "OTHER"


def namespace(stage: str) -> str:
    return f"{NAMESPACE_PREFIX}/{stage}"

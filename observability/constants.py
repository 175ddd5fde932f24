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
METRICS_DROPPED: Final = "MetricsDropped"
METRICS_PUBLISH_FAILURES: Final = "MetricsPublishFailures"

# Dimension keys
ENDPOINT: Final = "Endpoint"
METHOD: Final = "Method"
ERROR_TYPE: Final = "ErrorType"
LOOKUP_METHOD: Final = "LookupMethod"
CAUSE: Final = "Cause"  # of a 503 (triggers.core.errors.UnavailableCause)
OPERATION: Final = "Operation"  # a budgeted read: READ_INBOX or READ_LOOKUP_SCAN
INDEX: Final = "Index"  # a GSI a read could not use

# Units
COUNT: Final = "Count"
MILLISECONDS: Final = "Milliseconds"

# The ErrorType of an unhandled exception: the error-rate alarm counts only these (bugs);
# 503s (DynamoDB throttled/unreachable) lower the success rate instead.
INTERNAL_ERROR_TYPE: Final = "INTERNAL_ERROR"
# The ErrorType of a request that died with its worker, killed by gunicorn's timeout.
WORKER_TIMEOUT_ERROR_TYPE: Final = "WORKER_TIMEOUT"

# Values of the LookupMethod dimension: how a lookup by event id was served.
LOOKUP_GSI: Final = "gsi"
LOOKUP_SCAN: Final = "scan"

# Values of the Operation dimension: reads that run within a DynamoDB read budget.
READ_INBOX: Final = "inbox"
READ_LOOKUP_SCAN: Final = "lookup_scan"

KNOWN_METHODS: Final = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
OTHER_METHOD: Final = "OTHER"


def namespace(stage: str) -> str:
    return f"{NAMESPACE_PREFIX}/{stage}"

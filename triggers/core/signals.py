"""What the lower layers announce and the upper ones (observability) act on.

The core and HTTP layers never import observability: they send these signals, and
`observability.apps` connects the receivers that log and count.
"""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["request_crashed", "service_unavailable"]

# A request was answered 503 because DynamoDB could not serve it in time.
# Arguments: cause (a `triggers.core.errors.UnavailableCause`), error (str | None: what
# failed underneath, for the log).
service_unavailable = Signal()

# A request raised an exception nothing expected: it is answered 500.
# Arguments: exc (the exception, with its traceback).
request_crashed = Signal()

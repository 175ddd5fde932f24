"""Settings for the test suite and the benchmarks: the service's own settings, plus
devstack's instruments, installed as a Django app (`devstack.apps`), so no production
module carries a test hook.

    DJANGO_SETTINGS_MODULE=devstack.settings

- AWS_CALL_RECORD=<file>: append every AWS call's IAM action to the file
  (`devstack.aws_calls`; the IAM policy check in deploy/tests reads it).
- DEVSTACK_CAPACITY_RECORD=<file>: every DynamoDB data-plane call asks for its consumed
  capacity (table and each index) and appends it to the file (`devstack.capacity`; the
  write-cost table in docs/PERFORMANCE.md is measured so).
- DEVSTACK_INGEST_DELAY_MS=<ms>: every `POST /v1/events` waits this long before it is
  served (`devstack.slowdown`): the load-test runner's own test shows such a slowdown
  caught.
- DEVSTACK_CPU_BURN_US=<µs>: every request spins this much CPU after it is served
  (`devstack.slowdown`): the CPU gate's calibration injects a regression of known size.
"""

from __future__ import annotations

from triggers.core.env import env_int, env_str
from triggers.settings import *  # noqa: F403 - these settings extend the service's
from triggers.settings import INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [*INSTALLED_APPS, "devstack"]

AWS_CALL_RECORD = env_str("AWS_CALL_RECORD", "")
DEVSTACK_CAPACITY_RECORD = env_str("DEVSTACK_CAPACITY_RECORD", "")
DEVSTACK_INGEST_DELAY_MS = env_int("DEVSTACK_INGEST_DELAY_MS", 0, minimum=0, maximum=5000)
if DEVSTACK_INGEST_DELAY_MS:
    # Innermost: the delay is spent inside the request, as slower service code would be.
    MIDDLEWARE = [*MIDDLEWARE, "devstack.slowdown.IngestDelayMiddleware"]
DEVSTACK_CPU_BURN_US = env_int("DEVSTACK_CPU_BURN_US", 0, minimum=0, maximum=1_000_000)
if DEVSTACK_CPU_BURN_US:
    # Outermost: every request pays it, as it would pay slower code anywhere in the stack.
    MIDDLEWARE = ["devstack.slowdown.CpuBurnMiddleware", *MIDDLEWARE]

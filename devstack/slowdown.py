"""Injected slowdowns, installed by devstack.settings only, for the load-test runner's
own tests and the calibration of its CPU gate (perf/calibrate_gate.py):

- `IngestDelayMiddleware`: `POST /v1/events` waits DEVSTACK_INGEST_DELAY_MS before it is
  served (a latency regression: requests/s and p95 fall behind the reference);
- `CpuBurnMiddleware`: every request spins DEVSTACK_CPU_BURN_US microseconds of its
  thread's CPU after it is served (a CPU regression of a known size: the calibration
  sets it to a share of the CPU per request it measured).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

_SLOWED_PATH = "/v1/events"


class IngestDelayMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method == "POST" and request.path == _SLOWED_PATH:
            time.sleep(settings.DEVSTACK_INGEST_DELAY_MS / 1000)
        return self.get_response(request)


def burn_cpu(seconds: float) -> None:
    """Spin until this thread has used `seconds` more CPU (not wall-clock: a busy machine
    stretches the wait, never the work)."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


class CpuBurnMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response
        self.seconds = settings.DEVSTACK_CPU_BURN_US / 1_000_000

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        burn_cpu(self.seconds)
        return response

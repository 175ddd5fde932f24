"""An injected slowdown: `POST /v1/events` waits DEVSTACK_INGEST_DELAY_MS before it is
served. Installed by devstack.settings only, for the load-test runner's own test (an
unchanged build passes its gate; this one must not)."""

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

"""The child of perf/request_cpu.py: one endpoint driven in-process, its CPU per request.

Run in a fresh interpreter by the parent, possibly with another revision's checkout
first on the path (a before/after), so it imports nothing of the project until Django
is set up, and only what every revision has: the API-key service and the URLs.

    python perf/cpu_child.py ENDPOINT REQUESTS   # prints {"cpu_ms", "user_ms", "system_ms"}
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ENDPOINTS = ("post", "get", "inbox", "batch")
_WARM_UP_SECONDS = 2.5


def _request(client: Any, key: str, endpoint: str, event_id: str) -> Any:
    one = {"source": "perf", "event_type": "cpu", "payload": {"n": 1}}
    if endpoint == "post":
        return client.post(
            "/v1/events", json.dumps(one), content_type="application/json", HTTP_X_API_KEY=key
        )
    if endpoint == "batch":
        body = json.dumps({"events": [one] * 25})
        return client.post(
            "/v1/events/batch", body, content_type="application/json", HTTP_X_API_KEY=key
        )
    if endpoint == "get":
        return client.get(f"/v1/events/{event_id}", HTTP_X_API_KEY=key)
    return client.get("/v1/inbox", {"limit": "50"}, HTTP_X_API_KEY=key)


def main(endpoint: str, requests: int) -> None:
    import django  # noqa: PLC0415

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggers.settings")
    sys.stdout = Path(os.devnull).open("w")  # noqa: SIM115 - the service's logs go nowhere
    django.setup()
    from django.test import Client  # noqa: PLC0415

    from triggers.auth.services import api_key_create  # noqa: PLC0415

    key, _ = api_key_create(tenant_id=f"cpu-{os.getpid()}", name="perf")
    client = Client()
    # Every endpoint reads the same tenant: 60 pending events, one of them looked up.
    for _ in range(60):
        created = _request(client, key, "post", "")
    event_id = created.json()["event_id"]
    expected = 201 if endpoint == "post" else 200

    def call() -> None:
        response = _request(client, key, endpoint, event_id)
        if response.status_code != expected:
            raise SystemExit(f"unexpected {response.status_code}: {response.content[:200]!r}")

    warm_until = time.monotonic() + _WARM_UP_SECONDS  # imports, connections, caches
    while time.monotonic() < warm_until:
        call()
    before = os.times()
    for _ in range(requests):
        call()
    after = os.times()
    user_ms = (after.user - before.user) * 1000 / requests
    system_ms = (after.system - before.system) * 1000 / requests
    result = {"cpu_ms": user_ms + system_ms, "user_ms": user_ms, "system_ms": system_ms}
    print(json.dumps(result), file=sys.__stdout__)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))

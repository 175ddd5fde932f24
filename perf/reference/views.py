"""The service's DynamoDB calls, with nothing around them: a conditional put; a lookup
by id as one consistent GetItem of the key the (UUIDv7) id gives, else through the
keys-only id index; ack and delete as that lookup, then an update by key that takes the
event out of the queue; an inbox page as one Query of the queue index (the events
visible now, with the same filters, `limit` + 1 of them, from a cursor); a batch of 25
conditional puts in one transaction. Each caller's events are its own: the reference
has no key table, so the `X-API-Key` a scenario sends names its tenant (the service's
key names one too; the load runner gives each scenario a key of its own)."""

from __future__ import annotations

import base64
import functools
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from perf.reference.models import ReferenceEvent
from triggers.core.ids import event_id_time, new_event_id


def _tenant(request: Request) -> str:
    return str(request.headers.get("X-API-Key") or "reference")


@functools.cache
def _connection() -> Connection:
    return Connection(region=ReferenceEvent.Meta.region)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _event(tenant: str, body: dict[str, Any]) -> ReferenceEvent:
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # the id's precision
    event_id = new_event_id(now)
    key = f"{_stamp(now)}#{event_id}"
    return ReferenceEvent(
        tenant,
        key,
        event_id=event_id,
        created_at=now.isoformat(),
        source=str(body.get("source", "")),
        event_type=str(body.get("event_type", "")),
        payload=json.dumps(body.get("payload", {})),
        inbox_tenant=tenant,
        visible_key=key,
    )


def _render(event: ReferenceEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "created_key": event.created_key,
        "created_at": event.created_at,
        "source": event.source,
        "event_type": event.event_type,
        "payload": json.loads(event.payload),
    }


class EventsView(APIView):
    def post(self, request: Request) -> Response:
        event = _event(_tenant(request), request.data)
        event.save(condition=ReferenceEvent.created_key.does_not_exist())
        return Response({"event_id": event.event_id, "created_key": event.created_key}, 201)


def _get(tenant: str, created_key: str) -> ReferenceEvent | None:
    try:
        return ReferenceEvent.get(tenant, created_key, consistent_read=True)
    except ReferenceEvent.DoesNotExist:
        return None


def _by_id(tenant: str, event_id: str) -> ReferenceEvent | None:
    """As the service looks an id up: by the key a UUIDv7 id gives, else (and for a miss)
    through the keys-only id index, then by the key it found."""
    made = event_id_time(event_id)
    derived = None if made is None else f"{_stamp(made)}#{event_id}"
    if derived is not None and (event := _get(tenant, derived)) is not None:
        return event
    found = next(iter(ReferenceEvent.event_id_index.query(event_id)), None)
    if found is None or found.created_key == derived:
        return None
    return _get(tenant, found.created_key)


_OUT_OF_THE_QUEUE = [ReferenceEvent.inbox_tenant.remove(), ReferenceEvent.visible_key.remove()]


class EventView(APIView):
    def get(self, request: Request, event_id: str) -> Response:
        event = _by_id(_tenant(request), event_id)
        if event is None:
            return Response({"error": "not found"}, 404)
        return Response(_render(event))

    def delete(self, request: Request, event_id: str) -> Response:
        event = _by_id(_tenant(request), event_id)
        if event is not None:
            event.update(actions=[ReferenceEvent.source.set("deleted"), *_OUT_OF_THE_QUEUE])
        return Response(status=204)


class AckView(APIView):
    def post(self, request: Request, event_id: str) -> Response:
        event = _by_id(_tenant(request), event_id)
        if event is None:
            return Response({"error": "not found"}, 404)
        event.update(actions=[ReferenceEvent.source.set("acked"), *_OUT_OF_THE_QUEUE])
        return Response({"event_id": event_id})


def _cursor(key: dict[str, Any] | None) -> str | None:
    return None if key is None else base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


class InboxView(APIView):
    """The service's unbudgeted page: one Query of the events visible now, `limit` + 1
    of them (4 times as many evaluated with a filter, as the service's first call)."""

    def get(self, request: Request) -> Response:
        params = request.query_params
        limit = int(params.get("limit", 50))
        condition = None
        for name in ("source", "event_type"):
            if name in params:
                match = getattr(ReferenceEvent, name) == params[name]
                condition = match if condition is None else condition & match
        cursor = params.get("cursor")
        start = json.loads(base64.urlsafe_b64decode(cursor)) if cursor else None
        now = _stamp(datetime.now(UTC))
        results = ReferenceEvent.queue_index.query(
            _tenant(request),
            range_key_condition=ReferenceEvent.visible_key < f"{now}$",
            filter_condition=condition,
            last_evaluated_key=start,
        )
        pages = results.page_iter
        pages.page_size = (limit + 1) * (1 if condition is None else 4)
        page = next(pages)
        items = page.get("Items", [])
        events = [_render(ReferenceEvent.from_raw_data(item)) for item in items[:limit]]
        more = len(items) > limit or "LastEvaluatedKey" in page
        stop = items[limit - 1] if len(items) > limit else page.get("LastEvaluatedKey")
        position = None
        if more and stop is not None:
            position = {name: stop[name] for name in ("tenant_id", "created_key",
                                                      "inbox_tenant", "visible_key")}  # fmt: skip
        return Response(
            {"events": events, "pagination": {"limit": limit, "next_cursor": _cursor(position)}}
        )


class BatchView(APIView):
    def post(self, request: Request) -> Response:
        tenant = _tenant(request)
        events = [_event(tenant, body) for body in request.data["events"]]
        token = str(uuid.uuid4())
        with TransactWrite(connection=_connection(), client_request_token=token) as transaction:
            for event in events:
                transaction.save(event, condition=ReferenceEvent.created_key.does_not_exist())
        results = [{"event_id": e.event_id, "created_key": e.created_key} for e in events]
        return Response({"results": results})

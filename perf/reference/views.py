"""The service's DynamoDB calls, with nothing around them: a conditional put; a lookup by
id on the id index; ack and delete as that lookup, then an update by key (a delete
leaves a tombstone); a page of 50; a batch of 25 conditional puts in one transaction."""

from __future__ import annotations

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

TENANT = "reference"


@functools.cache
def _connection() -> Connection:
    return Connection(region=ReferenceEvent.Meta.region)


def _event(body: dict[str, Any]) -> ReferenceEvent:
    now = datetime.now(UTC).isoformat()
    event_id = str(uuid.uuid4())
    return ReferenceEvent(
        TENANT,
        f"{now}#{event_id}",
        event_id=event_id,
        created_at=now,
        source=str(body.get("source", "")),
        event_type=str(body.get("event_type", "")),
        payload=json.dumps(body.get("payload", {})),
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
        event = _event(request.data)
        event.save(condition=ReferenceEvent.created_key.does_not_exist())
        return Response({"event_id": event.event_id, "created_key": event.created_key}, 201)


def _by_id(event_id: str) -> ReferenceEvent | None:
    return next(iter(ReferenceEvent.event_id_index.query(event_id)), None)


class EventView(APIView):
    def get(self, request: Request, event_id: str) -> Response:
        event = _by_id(event_id)
        if event is None:
            return Response({"error": "not found"}, 404)
        return Response(_render(event))

    def delete(self, request: Request, event_id: str) -> Response:
        event = _by_id(event_id)
        if event is not None:
            event.update(actions=[ReferenceEvent.source.set("deleted")])
        return Response(status=204)


class AckView(APIView):
    def post(self, request: Request, event_id: str) -> Response:
        event = _by_id(event_id)
        if event is None:
            return Response({"error": "not found"}, 404)
        event.update(actions=[ReferenceEvent.source.set("acked")])
        return Response({"event_id": event_id})


class InboxView(APIView):
    def get(self, request: Request) -> Response:
        limit = int(request.query_params.get("limit", 50))
        events = ReferenceEvent.query(TENANT, limit=limit)
        return Response({"events": [_render(event) for event in events]})


class BatchView(APIView):
    def post(self, request: Request) -> Response:
        events = [_event(body) for body in request.data["events"]]
        token = str(uuid.uuid4())
        with TransactWrite(connection=_connection(), client_request_token=token) as transaction:
            for event in events:
                transaction.save(event, condition=ReferenceEvent.created_key.does_not_exist())
        results = [{"event_id": e.event_id, "created_key": e.created_key} for e in events]
        return Response({"results": results})

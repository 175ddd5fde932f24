"""HTTP endpoints for events. Each view validates, calls one service or selector, renders."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from events import selectors, services
from events.fields import EventDraft
from events.rendering import batch_json, created_json, item_json
from events.serializers import (
    IDEMPOTENCY_KEY_PATTERN,
    EventBatchInDocsSerializer,
    EventBatchInSerializer,
    EventBatchResponseSerializer,
    EventCreatedResponseSerializer,
    EventInSerializer,
    EventResponseSerializer,
    batch_result,
    resolve_idempotency_key,
)
from events.validation import validate_batch_events, validated_event
from triggers.core.errors import ServiceUnavailableError, ValidationFailedError
from triggers.core.identity import tenant_of
from triggers.http.api import ApiView, api_response
from triggers.http.schema import with_errors

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
IDEMPOTENT_REPLAYED_HEADER = "Idempotent-Replayed"


class EventCollectionView(ApiView):
    """Ingest one event. With an Idempotency-Key, a retry replays the first answer (200)."""

    @extend_schema(
        operation_id="events_create",
        request=EventInSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_KEY_HEADER,
                {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
                OpenApiParameter.HEADER,
                description=(
                    "Makes the request safe to retry for 24 h: 1-255 printable ASCII "
                    "characters without spaces, as metadata.idempotency_key."
                ),
            )
        ],
        responses=with_errors(
            "write",
            {201: EventCreatedResponseSerializer, 200: EventCreatedResponseSerializer},
        ),
    )
    def post(self, request: Request) -> Response:
        data = validated_event(request.data)
        metadata = data.get("metadata", {})
        ingested = services.event_ingest(
            tenant_id=tenant_of(request),
            draft=EventDraft.from_validated(data),
            idempotency_key=resolve_idempotency_key(
                header=request.headers.get(IDEMPOTENCY_KEY_HEADER), metadata=metadata
            ),
        )
        rendered = created_json(ingested)
        if ingested.replayed:
            return api_response(request, rendered, headers={IDEMPOTENT_REPLAYED_HEADER: "true"})
        return api_response(request, rendered, status=201)


class EventBatchView(ApiView):
    """Ingest 1-25 events in one request; each event succeeds or fails on its own."""

    @property
    def max_body_bytes(self) -> int:  # read by the JSON parser
        return int(settings.MAX_BATCH_BYTES)

    @extend_schema(
        operation_id="events_batch_create",
        request=EventBatchInDocsSerializer,
        responses=with_errors("write", {200: EventBatchResponseSerializer}),
    )
    def post(self, request: Request) -> Response:
        if IDEMPOTENCY_KEY_HEADER in request.headers:
            raise ValidationFailedError(
                "A batch takes no Idempotency-Key header: give each event its own "
                "metadata.idempotency_key.",
                details={"idempotency_key": ["Not accepted on a batch."]},
            )
        body = EventBatchInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        self.charge(request, len(body.validated_data["events"]) - 1)  # a batch counts as its events
        validated = validate_batch_events(body.validated_data["events"])
        valid = {index: data for index, data in enumerate(validated) if "error" not in data}
        outcomes = services.event_ingest_batch(
            tenant_id=tenant_of(request),
            items=[
                services.BatchItem(
                    draft=EventDraft.from_validated(data),
                    idempotency_key=data.get("metadata", {}).get("idempotency_key"),
                )
                for data in valid.values()
            ],
        )
        unavailable = [o for o in outcomes if isinstance(o, ServiceUnavailableError)]
        if unavailable and len(unavailable) == len(validated):
            raise unavailable[0]  # every event met a 503, none anything else: so does the batch
        results = [{"index": index, **data} for index, data in enumerate(validated)]
        for index, outcome in zip(valid, outcomes, strict=True):
            results[index] = {"index": index, **batch_result(outcome)}
        return api_response(request, {"results": batch_json(results)})


class EventDetailView(ApiView):
    """Read or delete one of the caller's events; other tenants' events are 404."""

    @extend_schema(
        operation_id="events_retrieve",
        responses=with_errors("read", {200: EventResponseSerializer}),
    )
    def get(self, request: Request, event_id: str) -> Response:
        item = selectors.event_item(tenant_id=tenant_of(request), event_id=event_id)
        return api_response(request, item_json(item))

    @extend_schema(operation_id="events_destroy", responses=with_errors("read", {204: None}))
    def delete(self, request: Request, event_id: str) -> Response:
        services.event_delete(tenant_id=tenant_of(request), event_id=event_id)
        return Response(status=204)

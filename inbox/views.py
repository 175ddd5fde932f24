"""HTTP endpoints of the consumer side: the inbox, leases, dead letters. Each view
validates, calls one selector or service per item, renders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from events.rendering import item_json
from inbox import leases
from inbox.cursor import decode_cursor, encode_cursor
from inbox.lease_tokens import LeaseToken, decode_lease_token
from inbox.selectors import QueuePage, dead_letter_page, inbox_page
from inbox.serializers import (
    MAX_REDRIVE_EVENTS,
    AckResultsResponseSerializer,
    EventAckRequestSerializer,
    EventAckResponseSerializer,
    ExtendRequestSerializer,
    ExtendResultsResponseSerializer,
    InboxQuerySerializer,
    InboxResponseSerializer,
    LeaseRequestSerializer,
    LeaseResponseSerializer,
    LeaseTokensSerializer,
    RedriveRequestSerializer,
    RedriveResponseSerializer,
    ReleaseRequestSerializer,
    ReleaseResultsResponseSerializer,
)
from triggers.core.clock import format_timestamp
from triggers.core.errors import TriggersError, ValidationFailedError
from triggers.core.identity import tenant_of
from triggers.http.api import ApiView, api_response
from triggers.http.schema import with_errors


def _listed(request: Request, read_page: Callable[..., QueuePage]) -> Response:
    """A page of the inbox or of the dead letters, as the query asks."""
    query = InboxQuerySerializer(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    params = query.validated_data
    page = read_page(
        tenant_id=tenant_of(request),
        limit=params["limit"],
        cursor=params.get("cursor"),
        source=params.get("source"),
        event_type=params.get("event_type"),
    )
    body = {
        "events": [item_json(item) for item in page.items],
        "pagination": {"limit": params["limit"], "next_cursor": page.next_cursor},
    }
    return api_response(request, body)


def _error_json(error: TriggersError) -> dict[str, Any]:
    return {"code": error.code, "message": error.message, "details": error.details}


def _each_lease(
    request: Request, tokens: list[str], act: Callable[[str, LeaseToken], dict[str, Any]]
) -> Response:
    """`act` on each token's lease, in order; the answer lists each one's result, or the
    error it alone met."""
    tenant_id = tenant_of(request)
    results: list[dict[str, Any]] = []
    for index, text in enumerate(tokens):
        try:
            token = decode_lease_token(text, tenant_id=tenant_id)
            results.append({"index": index, "event_id": token.event_id, **act(tenant_id, token)})
        except TriggersError as error:
            if error.status_code >= 500:
                raise
            results.append({"index": index, "error": _error_json(error)})
    return api_response(request, {"results": results})


class InboxView(ApiView):
    """The caller's events available now (pending, not under a lease), oldest first, with
    cursor pagination and filters."""

    @extend_schema(
        operation_id="inbox_list",
        parameters=[InboxQuerySerializer],
        responses=with_errors("list", {200: InboxResponseSerializer}),
    )
    def get(self, request: Request) -> Response:
        return _listed(request, inbox_page)


class LeaseView(ApiView):
    """Lease up to `limit` available events, oldest first: no other lease returns them
    until the lease expires, is released, or the event is acknowledged. A page may be
    shorter than `limit` (other consumers won some), or empty."""

    @extend_schema(
        operation_id="inbox_lease",
        request=LeaseRequestSerializer,
        responses=with_errors("write", {200: LeaseResponseSerializer}),
    )
    def post(self, request: Request) -> Response:
        body = LeaseRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        params = body.validated_data
        tenant_id = tenant_of(request)
        cursor = params.get("cursor")
        batch = leases.lease_events(
            tenant_id=tenant_id,
            limit=params["limit"],
            visibility_timeout=params["visibility_timeout"],
            source=params.get("source"),
            event_type=params.get("event_type"),
            after=None if cursor is None else decode_cursor(cursor, tenant_id=tenant_id),
        )
        events = [
            {**item_json(event.item), "lease": _lease_json(event.lease)} for event in batch.events
        ]
        stopped = batch.stopped_at
        next_cursor = (
            None if stopped is None else encode_cursor(tenant_id=tenant_id, position=stopped)
        )
        return api_response(request, {"events": events, "next_cursor": next_cursor})


def _lease_json(lease: leases.Lease) -> dict[str, Any]:
    return {
        "token": lease.token,
        "expires_at": format_timestamp(lease.expires_at),
        "delivery_count": lease.delivery_count,
    }


def _acked_json(done: leases.Acknowledged) -> dict[str, Any]:
    return {
        "event_id": done.event_id,
        "status": "acknowledged",
        "acknowledged_at": format_timestamp(done.acknowledged_at),
    }


class EventAckView(ApiView):
    """Acknowledge an event: it leaves the inbox (and any lease or the dead letters).
    With a `lease_token`, only while that lease holds it. Acking again returns the
    first time."""

    @extend_schema(
        operation_id="events_acknowledge",
        request=EventAckRequestSerializer,
        responses=with_errors("write", {200: EventAckResponseSerializer}),
    )
    def post(self, request: Request, event_id: str) -> Response:
        # No body is `{}`; any other body must be the object (`false` or `[]` is a 400)
        body = EventAckRequestSerializer(data={} if request.data == {} else request.data)
        body.is_valid(raise_exception=True)
        tenant_id = tenant_of(request)
        text = body.validated_data.get("lease_token")
        if text is None:
            done = leases.ack_event(tenant_id=tenant_id, event_id=event_id)
        else:
            token = decode_lease_token(text, tenant_id=tenant_id)
            if token.event_id != event_id:
                raise ValidationFailedError(
                    "This lease token is for another event.",
                    details={"lease_token": [f"A lease of event {token.event_id}."]},
                )
            done = leases.ack_lease(tenant_id=tenant_id, token=token)
        return api_response(request, _acked_json(done))


class InboxAckView(ApiView):
    """Acknowledge up to 100 leased events, each only while its lease holds."""

    @extend_schema(
        operation_id="inbox_ack",
        request=LeaseTokensSerializer,
        responses=with_errors("write", {200: AckResultsResponseSerializer}),
    )
    def post(self, request: Request) -> Response:
        body = LeaseTokensSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        def ack(tenant_id: str, token: LeaseToken) -> dict[str, Any]:
            done = leases.ack_lease(tenant_id=tenant_id, token=token)
            return {key: value for key, value in _acked_json(done).items() if key != "event_id"}

        return _each_lease(request, body.validated_data["lease_tokens"], ack)


class ExtendView(ApiView):
    """Extend leases: each holds `visibility_timeout` seconds from now (at most 12 h
    from when it was taken)."""

    @extend_schema(
        operation_id="inbox_extend",
        request=ExtendRequestSerializer,
        responses=with_errors("write", {200: ExtendResultsResponseSerializer}),
    )
    def post(self, request: Request) -> Response:
        body = ExtendRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        timeout = body.validated_data["visibility_timeout"]

        def extend(tenant_id: str, token: LeaseToken) -> dict[str, Any]:
            lease = leases.extend_lease(
                tenant_id=tenant_id, token=token, visibility_timeout=timeout
            )
            return {"lease": _lease_json(lease)}

        return _each_lease(request, body.validated_data["lease_tokens"], extend)


class ReleaseView(ApiView):
    """Give leased events back: each can be leased again after `delay` seconds; one on its
    last allowed delivery (LEASE_MAX_DELIVERIES) is dead-lettered instead."""

    @extend_schema(
        operation_id="inbox_release",
        request=ReleaseRequestSerializer,
        responses=with_errors("write", {200: ReleaseResultsResponseSerializer}),
    )
    def post(self, request: Request) -> Response:
        body = ReleaseRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        delay = body.validated_data["delay"]

        def release(tenant_id: str, token: LeaseToken) -> dict[str, Any]:
            status = leases.release_lease(tenant_id=tenant_id, token=token, delay=delay)
            return {"status": status}

        return _each_lease(request, body.validated_data["lease_tokens"], release)


class DeadLetterListView(ApiView):
    """The caller's dead-lettered events, oldest (created) first, with cursor pagination
    and filters."""

    @extend_schema(
        operation_id="dead_letters_list",
        parameters=[InboxQuerySerializer],
        responses=with_errors("list", {200: InboxResponseSerializer}),
    )
    def get(self, request: Request) -> Response:
        return _listed(request, dead_letter_page)


class RedriveView(ApiView):
    """Return dead-lettered events to the pending queue, their delivery count reset: the
    ones named, or up to 100 created in a time range (ask again while `more`)."""

    @extend_schema(
        operation_id="dead_letters_redrive",
        request=RedriveRequestSerializer,
        responses=with_errors("write", {200: RedriveResponseSerializer}),
    )
    def post(self, request: Request) -> Response:
        body = RedriveRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        params = body.validated_data
        tenant_id = tenant_of(request)
        if "event_ids" in params:
            outcomes = [_redrive_by_id(tenant_id, event_id) for event_id in params["event_ids"]]
            more = False
        else:
            redriven = leases.redrive_range(
                tenant_id=tenant_id,
                since=params["since"],
                until=params["until"],
                limit=MAX_REDRIVE_EVENTS,
                source=params.get("source"),
                event_type=params.get("event_type"),
            )
            outcomes, more = list(redriven.results), redriven.more
        results = [
            {"event_id": outcome.event_id, "status": "pending"}
            if isinstance(outcome, leases.Redriven)
            else {"event_id": outcome.details.get("event_id"), "error": _error_json(outcome)}
            for outcome in outcomes
        ]
        return api_response(request, {"results": results, "more": more})


def _redrive_by_id(tenant_id: str, event_id: str) -> leases.Redriven | TriggersError:
    try:
        return leases.redrive_by_id(tenant_id=tenant_id, event_id=event_id)
    except TriggersError as error:
        if error.status_code >= 500:
            raise
        return error

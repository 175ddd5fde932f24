from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from events.rendering import item_json
from inbox.selectors import inbox_page
from inbox.serializers import InboxQuerySerializer, InboxResponseSerializer
from triggers.core.identity import tenant_of
from triggers.http.api import ApiView, api_response
from triggers.http.schema import with_errors


class InboxView(ApiView):
    """The caller's pending events, oldest first, with cursor pagination and filters."""

    @extend_schema(
        operation_id="inbox_list",
        parameters=[InboxQuerySerializer],
        responses=with_errors("list", {200: InboxResponseSerializer}),
    )
    def get(self, request: Request) -> Response:
        query = InboxQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        params = query.validated_data
        page = inbox_page(
            tenant_id=tenant_of(request),
            limit=params["limit"],
            cursor=params.get("cursor"),
            source=params.get("source"),
            event_type=params.get("event_type"),
        )
        return api_response(
            request,
            {
                "events": [item_json(item) for item in page.items],
                "pagination": {"limit": params["limit"], "next_cursor": page.next_cursor},
            },
        )

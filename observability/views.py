from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from observability.health import health_report, liveness_report
from observability.serializers import HealthSerializer, LivenessSerializer
from triggers.core.errors import RETRY_AFTER_SECONDS
from triggers.http.api import ApiView, api_response


class HealthView(ApiView):
    """Deep health: DynamoDB answers a data-plane read (cached briefly). For monitoring
    and deploy checks; load balancers should use the liveness endpoint. No API key."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="health",
        auth=[],
        responses={200: HealthSerializer, 503: HealthSerializer},
    )
    def get(self, request: Request) -> Response:
        report = health_report()
        if report["status"] == "healthy":
            return api_response(request, report)
        # Like every 503: when to ask again (the check is cached that long at most).
        retry_after = str(max(settings.HEALTH_CACHE_SECONDS, RETRY_AFTER_SECONDS))
        return api_response(request, report, status=503, headers={"Retry-After": retry_after})


class LivenessView(ApiView):
    """Shallow health: the process is up and serving; never touches DynamoDB. For load
    balancer health checks. No API key."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(operation_id="health_live", auth=[], responses={200: LivenessSerializer})
    def get(self, request: Request) -> Response:
        return api_response(request, liveness_report())

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from observability.health import health_report
from observability.serializers import HealthSerializer
from triggers.api import ApiView, api_response


class HealthView(ApiView):
    """Liveness and DynamoDB reachability (cached briefly); no API key needed."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="health",
        auth=[],
        responses={200: HealthSerializer, 503: HealthSerializer},
    )
    def get(self, request: Request) -> Response:
        report = health_report()
        return api_response(request, report, status=200 if report["status"] == "healthy" else 503)

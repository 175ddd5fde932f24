"""v1 routes. Errors outside DRF (unknown route, crash in middleware) use the same envelope."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerView

from triggers.core.errors import ErrorCode
from triggers.http.exceptions import django_error_response
from triggers.http.schema import SchemaView

urlpatterns = [
    path("v1/", include("events.urls")),
    path("v1/", include("inbox.urls")),
    path("v1/", include("observability.urls")),
    path("v1/schema", SchemaView.as_view(), name="schema"),
    path("v1/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return django_error_response(
        request, status=400, code=ErrorCode.VALIDATION_ERROR, message="Bad request."
    )


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return django_error_response(
        request, status=404, code=ErrorCode.NOT_FOUND, message="No such endpoint."
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return django_error_response(
        request, status=500, code=ErrorCode.INTERNAL_ERROR, message="Internal error."
    )


handler400 = bad_request
handler403 = not_found  # the API answers 404, never 403 (no HTML page either way)
handler404 = not_found
handler500 = server_error

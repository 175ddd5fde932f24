from __future__ import annotations

from django.urls import path

from observability.views import HealthView

urlpatterns = [path("health", HealthView.as_view(), name="health")]

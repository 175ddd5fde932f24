from __future__ import annotations

from django.urls import path

from perf.reference.views import AckView, BatchView, EventsView, EventView, InboxView

urlpatterns = [
    path("ref/events", EventsView.as_view()),
    path("ref/events/batch", BatchView.as_view()),
    path("ref/events/<str:created_key>", EventView.as_view()),
    path("ref/events/<str:created_key>/ack", AckView.as_view()),
    path("ref/inbox", InboxView.as_view()),
]

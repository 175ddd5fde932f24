from __future__ import annotations

from django.urls import path

from perf.reference.views import AckView, BatchView, EventsView, EventView, InboxView

urlpatterns = [
    path("ref/events", EventsView.as_view()),
    path("ref/events/batch", BatchView.as_view()),
    path("ref/events/<str:event_id>", EventView.as_view()),
    path("ref/events/<str:event_id>/ack", AckView.as_view()),
    path("ref/inbox", InboxView.as_view()),
]

from __future__ import annotations

from django.urls import path

from events.views import EventBatchView, EventCollectionView, EventDetailView

urlpatterns = [
    path("events", EventCollectionView.as_view(), name="events"),
    path("events/batch", EventBatchView.as_view(), name="events-batch"),
    path("events/<str:event_id>", EventDetailView.as_view(), name="event-detail"),
]

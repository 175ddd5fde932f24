from __future__ import annotations

from django.urls import path

from events.views import EventAckView, EventCollectionView, EventDetailView

urlpatterns = [
    path("events", EventCollectionView.as_view(), name="events"),
    path("events/<str:event_id>", EventDetailView.as_view(), name="event-detail"),
    path("events/<str:event_id>/ack", EventAckView.as_view(), name="event-ack"),
]

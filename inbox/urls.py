from __future__ import annotations

from django.urls import path

from inbox.views import (
    DeadLetterListView,
    EventAckView,
    ExtendView,
    InboxAckView,
    InboxView,
    LeaseView,
    RedriveView,
    ReleaseView,
)

urlpatterns = [
    path("inbox", InboxView.as_view(), name="inbox"),
    path("inbox/lease", LeaseView.as_view(), name="inbox-lease"),
    path("inbox/ack", InboxAckView.as_view(), name="inbox-ack"),
    path("inbox/extend", ExtendView.as_view(), name="inbox-extend"),
    path("inbox/release", ReleaseView.as_view(), name="inbox-release"),
    path("dead-letters", DeadLetterListView.as_view(), name="dead-letters"),
    path("dead-letters/redrive", RedriveView.as_view(), name="dead-letters-redrive"),
    # The consumer's ack of one event lives with the leases it may be given with.
    path("events/<str:event_id>/ack", EventAckView.as_view(), name="event-ack"),
]

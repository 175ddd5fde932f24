from __future__ import annotations

from django.urls import path

from inbox.views import InboxView

urlpatterns = [path("inbox", InboxView.as_view(), name="inbox")]

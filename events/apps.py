from __future__ import annotations

from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"

    def ready(self) -> None:
        from triggers import deadline  # noqa: PLC0415 - apps must be ready

        deadline.connect()

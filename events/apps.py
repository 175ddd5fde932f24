from __future__ import annotations

from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"

    def ready(self) -> None:
        from events.models import Event, IdempotencyRecord  # noqa: PLC0415 - apps ready
        from triggers.core.tables import register_table  # noqa: PLC0415

        register_table(Event)
        register_table(IdempotencyRecord)

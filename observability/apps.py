from __future__ import annotations

from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "observability"

    def ready(self) -> None:
        from observability import dynamodb, signals  # noqa: PLC0415 - apps ready

        dynamodb.connect()
        signals.connect()

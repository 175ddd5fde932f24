from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "triggers.core"
    label = "core"

    def ready(self) -> None:
        from triggers.core import deadline  # noqa: PLC0415 - apps must be ready

        deadline.connect()

from __future__ import annotations

from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "triggers.auth"
    label = "apikeys"  # not "auth": that is django.contrib.auth's label

    def ready(self) -> None:
        from triggers.auth.models import ApiKey  # noqa: PLC0415 - apps ready
        from triggers.core.tables import register_table  # noqa: PLC0415

        register_table(ApiKey)

from __future__ import annotations

from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "triggers.auth"
    label = "apikeys"  # not "auth": that is django.contrib.auth's label

from __future__ import annotations

from django.apps import AppConfig


class DevstackConfig(AppConfig):
    """Installed by devstack.settings only: the instruments tests and benchmarks need."""

    name = "devstack"

    def ready(self) -> None:
        from devstack import aws_calls, capacity  # noqa: PLC0415 - apps must be ready

        aws_calls.connect()
        capacity.connect()

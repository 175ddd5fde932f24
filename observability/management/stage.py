"""The stage the monitoring commands set up: required, never a default."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError


def required_stage() -> str:
    """settings.STAGE, or a CommandError saying why it is needed."""
    if not settings.STAGE:
        raise CommandError(
            "STAGE is not set: it names the environment's metrics namespace "
            "(TriggersAPI/<STAGE>), its dashboard and its alarms. Run with STAGE=<stage>."
        )
    stage: str = settings.STAGE
    return stage

"""Response shape of GET /v1/health (for the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class DependencyCheckSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=["healthy", "unhealthy"])
    latency_ms = serializers.FloatField(required=False)
    error = serializers.CharField(required=False)


class HealthChecksSerializer(serializers.Serializer[Any]):
    dynamodb = DependencyCheckSerializer()


class HealthSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=["healthy", "unhealthy"])
    version = serializers.CharField()
    checks = HealthChecksSerializer()
    request_id = serializers.CharField()

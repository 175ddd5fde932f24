"""Response shapes of GET /v1/health and /v1/health/live (for the OpenAPI schema)."""

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


class LivenessSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=["alive"])
    version = serializers.CharField()
    request_id = serializers.CharField()

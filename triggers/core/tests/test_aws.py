"""A gunicorn worker builds its DynamoDB clients before its first request (no network:
building a client only loads botocore's models)."""

from __future__ import annotations

from events.models import Event
from triggers import gunicorn_conf
from triggers.auth.models import ApiKey
from triggers.core.aws import dynamodb_connection


def test_a_new_worker_has_every_client_built_before_its_first_request() -> None:
    connections = [Event._get_connection().connection, ApiKey._get_connection().connection]
    for connection in connections:
        connection._client = None  # as a fresh worker has them

    gunicorn_conf.post_worker_init(worker=None)

    assert all(connection._client is not None for connection in connections)
    assert dynamodb_connection()._client is not None

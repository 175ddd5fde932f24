"""AWS wiring. Nothing here connects at import time.

Endpoints are never configured in code: the SDK's own variables
(`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_CLOUDWATCH`, ...) point the
service at DynamoDB Local or moto, and with none set it talks to real AWS.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from django.conf import settings
from pynamodb.connection import Connection
from pynamodb.models import Model


class DynamoDBMeta:
    """Connection options shared by every PynamoDB model's `Meta` (read lazily by PynamoDB)."""

    region = settings.AWS_REGION
    billing_mode = "PAY_PER_REQUEST"
    connect_timeout_seconds = settings.DYNAMODB_CONNECT_TIMEOUT_SECONDS
    read_timeout_seconds = settings.DYNAMODB_READ_TIMEOUT_SECONDS
    max_retry_attempts = settings.DYNAMODB_MAX_RETRY_ATTEMPTS
    max_pool_connections = settings.DYNAMODB_MAX_POOL_CONNECTIONS


def table_name(suffix: str) -> str:
    return f"{settings.TABLE_PREFIX}-{suffix}"


_client_setups: list[Callable[[Any], None]] = []


def setup_each_client(setup: Callable[[Any], None]) -> None:
    """Run `setup(events)` with the event system of every client `aws_client` makes."""
    _client_setups.append(setup)


def aws_client(service: str, *, region: str | None = None, config: Config | None = None) -> Any:
    """A boto3 client for `service`, created on demand with the configured region."""
    session: Any = boto3.session.Session()  # typed per service; this factory serves any
    client = session.client(service, region_name=region or settings.AWS_REGION, config=config)
    for setup in _client_setups:
        setup(client.meta.events)
    return client


@functools.cache
def dynamodb_connection() -> Connection:
    """A low-level PynamoDB connection (for transactions), built once per process."""
    return Connection(
        region=DynamoDBMeta.region,
        connect_timeout_seconds=DynamoDBMeta.connect_timeout_seconds,
        read_timeout_seconds=DynamoDBMeta.read_timeout_seconds,
        max_retry_attempts=DynamoDBMeta.max_retry_attempts,
        max_pool_connections=DynamoDBMeta.max_pool_connections,
    )


def warm_dynamodb_clients() -> None:
    """Build the botocore client of every PynamoDB model's connection, and the shared
    one, now rather than on first use (gunicorn's post_worker_init: one thread builds
    what every thread then shares)."""
    for model in _subclasses(Model):
        if getattr(getattr(model, "Meta", None), "table_name", None):
            _ = model._get_connection().connection.client
    _ = dynamodb_connection().client


def _subclasses(cls: type[Model]) -> list[type[Model]]:
    found: list[type[Model]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def on_each_new_client(setup: Callable[[Any], None]) -> Callable[..., None]:
    """A receiver for PynamoDB's `pre_dynamodb_send` signal that runs `setup(events)` with
    a botocore client's event system the first time it sees that client, and does nothing
    on every later call (registering a hook costs an `inspect` of the handler)."""
    seen: weakref.WeakSet[Any] = weakref.WeakSet()

    def receiver(sender: Any, **_: Any) -> None:
        client = sender.client
        if client not in seen:
            setup(client.meta.events)  # idempotent by unique_id, should two threads race
            seen.add(client)

    return receiver

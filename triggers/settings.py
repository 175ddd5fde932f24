"""Settings for the Triggers API, read from the environment (see README "Configuration").

A bad value raises ImproperlyConfigured at startup rather than misbehaving later.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from observability.logging import LogSettings, build_logging_config, configure_structlog
from triggers import __version__
from triggers.core.clock import TIMESTAMP_FORMAT
from triggers.core.env import env_bool, env_choice, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-local-only" if DEBUG else None)
# Keys that signed what clients may still hold (inbox cursors, lease tokens): accepted,
# never used to sign. Comma-separated. A rotation adds the new key here first, then makes
# it DJANGO_SECRET_KEY with the old one here (docs/DEPLOYMENT.md "Rotating the secret key").
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS", "")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")

# --- service --------------------------------------------------------------------------
APP_VERSION = env_str("APP_VERSION", __version__)
# STAGE names the CloudWatch namespace, dashboard and alarms (TriggersAPI/<STAGE>);
# TABLE_PREFIX the tables. A deployment sets both per environment (docs/DEPLOYMENT.md).
STAGE = env_str("STAGE", "")
AWS_REGION = env_str("AWS_REGION", env_str("AWS_DEFAULT_REGION", "us-east-1"))
TABLE_PREFIX = env_str("TABLE_PREFIX", "triggers")
MAX_EVENT_BYTES = env_int("MAX_EVENT_BYTES", 256 * 1024, minimum=1024, maximum=350 * 1024)
# A batch's whole body. Parsing JSON takes up to ~25x its size in memory (a body of
# `{}`s), so 1 MiB bounds one parse near 30 MB (docs/SECURITY.md "Memory").
MAX_BATCH_BYTES = env_int(
    "MAX_BATCH_BYTES", 1024 * 1024, minimum=MAX_EVENT_BYTES, maximum=4_000_000
)
# Bodies over MAX_EVENT_BYTES (only batches can be) a worker process reads and parses at
# once; past it a request is answered 503 with Retry-After before its body is read.
LARGE_BODIES_PER_WORKER = env_int("LARGE_BODIES_PER_WORKER", 1, minimum=1)
EVENT_RETENTION_DAYS = env_int("EVENT_RETENTION_DAYS", 7, minimum=1)
IDEMPOTENCY_TTL_HOURS = env_int("IDEMPOTENCY_TTL_HOURS", 24, minimum=1)
API_KEY_CACHE_SECONDS = env_int("API_KEY_CACHE_SECONDS", 30, minimum=0)
# Active keys a process caches at once; past it the cache evicts a third of its entries.
API_KEY_CACHE_MAX_KEYS = env_int("API_KEY_CACHE_MAX_KEYS", 10_000, minimum=10)
# Well-formed keys that match no key are remembered as unknown this long (each try would
# otherwise cost a GetItem), at most API_KEY_CACHE_MAX_KEYS of them, apart from the
# known keys; a key created meanwhile works after at most this long.
API_KEY_MISS_CACHE_SECONDS = env_int("API_KEY_MISS_CACHE_SECONDS", 10, minimum=0)
HEALTH_CACHE_SECONDS = env_int("HEALTH_CACHE_SECONDS", 5, minimum=0)

# Proxies in front of the service that append to X-Forwarded-For (on Elastic Beanstalk:
# the load balancer and nginx, 2); 0 trusts no header: the client is the socket's peer.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=10)

# --- rate limiting, per API key (docs/API.md "Rate limits") ---------------------------
RATE_LIMIT_ENABLED = env_bool("RATE_LIMIT_ENABLED", default=True)
# Defaults for keys without their own (`create_api_key --rate ... --burst ...`).
RATE_LIMIT_PER_SECOND = env_float("RATE_LIMIT_PER_SECOND", 100.0, minimum=0.001)
RATE_LIMIT_BURST = env_int("RATE_LIMIT_BURST", 200, minimum=1)
# Workers share each key's allowance through a DynamoDB counter per window, leasing it
# in RATE_LIMIT_LEASES_PER_WINDOW parts: that many writes per window per busy worker.
RATE_LIMIT_WINDOW_SECONDS = env_int("RATE_LIMIT_WINDOW_SECONDS", 10, minimum=1, maximum=3600)
RATE_LIMIT_LEASES_PER_WINDOW = env_int("RATE_LIMIT_LEASES_PER_WINDOW", 20, minimum=1)

# --- DynamoDB: how long and how much one request may ask of it (docs/RELIABILITY.md) ---
# Every request's DynamoDB work (all calls, retries, back-off) ends this long after it
# arrived; a request that cannot finish by then is answered 503 with Retry-After.
DYNAMODB_DEADLINE_SECONDS = env_float("DYNAMODB_DEADLINE_SECONDS", 4.0, minimum=0.5)
# Per attempt; the read timeout is further capped by what is left of the deadline.
DYNAMODB_CONNECT_TIMEOUT_SECONDS = env_float("DYNAMODB_CONNECT_TIMEOUT_SECONDS", 1.0, minimum=0.1)
DYNAMODB_READ_TIMEOUT_SECONDS = env_float("DYNAMODB_READ_TIMEOUT_SECONDS", 2.0, minimum=0.1)
# botocore "standard" retry mode: retries after throttling, 5xx, timeouts and resets.
DYNAMODB_MAX_RETRY_ATTEMPTS = env_int("DYNAMODB_MAX_RETRY_ATTEMPTS", 2, minimum=0)
DYNAMODB_MAX_POOL_CONNECTIONS = env_int("DYNAMODB_MAX_POOL_CONNECTIONS", 20, minimum=1)
if DYNAMODB_CONNECT_TIMEOUT_SECONDS + 0.1 >= DYNAMODB_DEADLINE_SECONDS:
    raise ImproperlyConfigured(
        "DYNAMODB_DEADLINE_SECONDS must exceed DYNAMODB_CONNECT_TIMEOUT_SECONDS by more than "
        "0.1 s, or no DynamoDB call could ever start."
    )
# Every data-plane call asks DynamoDB what it consumed (ReturnConsumedCapacity=TOTAL,
# free of charge): `request_finished` logs the request's sum as dynamodb_capacity_units,
# and the load gate compares it per endpoint.
DYNAMODB_REPORT_CAPACITY = env_bool("DYNAMODB_REPORT_CAPACITY", default=True)
# The most one read (an inbox page, a lookup) may ask of DynamoDB: items evaluated, calls.
DYNAMODB_READ_BUDGET_ITEMS = env_int("DYNAMODB_READ_BUDGET_ITEMS", 1000, minimum=1)
DYNAMODB_READ_BUDGET_CALLS = env_int("DYNAMODB_READ_BUDGET_CALLS", 5, minimum=1)
# Lookups by id on a table whose event-id-index is missing or backfilling Scan, within
# this many items and this many concurrent Scans per process; past either, 503.
EVENT_SCAN_BUDGET_ITEMS = env_int("EVENT_SCAN_BUDGET_ITEMS", 10000, minimum=1)
EVENT_SCAN_MAX_CONCURRENT = env_int("EVENT_SCAN_MAX_CONCURRENT", 2, minimum=1)
# Leases (POST /v1/inbox/lease): an event whose lease expires or is released for this
# many deliveries is dead-lettered instead of offered again (SQS's maxReceiveCount).
LEASE_MAX_DELIVERIES = env_int("LEASE_MAX_DELIVERIES", 5, minimum=1, maximum=100)
# A lease request makes at most `limit` + this many conditional writes: spares for the
# leases it loses to another consumer and for the dead letters it moves on its way.
LEASE_SPARE_WRITES = env_int("LEASE_SPARE_WRITES", 10, minimum=0, maximum=100)
# How many of a lease's conditional writes run at once (per process, all leases
# together); 1 writes them one after another.
LEASE_WRITE_CONCURRENCY = env_int("LEASE_WRITE_CONCURRENCY", 8, minimum=1, maximum=64)
# A process that found a GSI missing or backfilling reads the slower way for this long,
# then tries the index again (no DescribeTable on the request path).
INDEX_RECHECK_SECONDS = env_float("INDEX_RECHECK_SECONDS", 60.0, minimum=0.1)

# --- Django ---------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.staticfiles",  # only for /v1/docs's Swagger UI assets
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_structlog",
    "triggers.core",
    "triggers.auth",
    "events",
    "inbox",
    "observability",
]

MIDDLEWARE = [
    "observability.middleware.RequestContextMiddleware",
    "triggers.http.large_bodies.LargeBodyGateMiddleware",
    "triggers.core.deadline.DynamoDBDeadlineMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
]

ROOT_URLCONF = "triggers.urls"
WSGI_APPLICATION = "triggers.wsgi.application"
DATABASES: dict[str, dict[str, str]] = {}
APPEND_SLASH = False
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = False
# A JSON service: no sessions, no database. The one HTML page is /v1/docs (Swagger UI from
# drf-spectacular's template), whose assets whitenoise serves from the installed
# drf-spectacular-sidecar package itself: no CDN, no collectstatic step.
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
STATIC_URL = "/v1/docs/static/"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False
# Per process: active API keys and the health probe's result.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": API_KEY_CACHE_MAX_KEYS + 10},
    },
    # Keys known not to exist (triggers.auth.selectors), apart from the known ones.
    "api-key-misses": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "api-key-misses",
        "OPTIONS": {"MAX_ENTRIES": API_KEY_CACHE_MAX_KEYS},
    },
}
# The body limit is enforced by the JSON parser (413); Django's own check would give a 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = None

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["triggers.auth.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["triggers.ratelimit.throttle.ApiKeyRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["triggers.http.content.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["triggers.http.content.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "triggers.http.content.JSONOnlyNegotiation",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "triggers.http.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "UNAUTHENTICATED_TOKEN": None,
    "DATETIME_FORMAT": TIMESTAMP_FORMAT,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Triggers API",
    "DESCRIPTION": "Multi-tenant event ingestion: producers POST events, consumers poll an inbox.",
    "VERSION": APP_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "displayRequestDuration": True},
    # Two endpoints answer a `status` with different choices; name each set.
    "ENUM_NAME_OVERRIDES": {
        "HealthStatusEnum": ["healthy", "unhealthy"],
        "LivenessStatusEnum": ["alive"],
    },
}

# Metrics: off unless asked for. Elastic Beanstalk sets METRICS_BACKEND=cloudwatch; `make
# run` points it at the local moto server.
METRICS_BACKEND = env_choice("METRICS_BACKEND", "none", ("cloudwatch", "log", "none"))
# Publishing to CloudWatch means a real environment (or its local stand-in): nothing about
# where its data and metrics go may be a default that another environment shares.
_UNSET = [name for name in ("STAGE", "TABLE_PREFIX", "AWS_REGION") if not os.environ.get(name)]
if METRICS_BACKEND == "cloudwatch" and _UNSET:
    raise ImproperlyConfigured(
        f"METRICS_BACKEND=cloudwatch needs {', '.join(_UNSET)} set: each environment names "
        "its stage (the metrics namespace), its tables and its region."
    )
METRICS_FLUSH_INTERVAL_SECONDS = env_float("METRICS_FLUSH_INTERVAL_SECONDS", 60.0, minimum=0.05)
METRICS_MAX_SERIES = env_int("METRICS_MAX_SERIES", 1000, minimum=10)
METRICS_MAX_PENDING_BATCHES = env_int("METRICS_MAX_PENDING_BATCHES", 10, minimum=1)

LOG = LogSettings.from_env()
LOGGING = build_logging_config(LOG)
configure_structlog(LOG)

# django-structlog: one `request_finished` line per request (request_started only at DEBUG);
# the request id comes from RequestContextMiddleware, which has already validated it.
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = logging.DEBUG
DJANGO_STRUCTLOG_USER_ID_FIELD = None
# The client address is bound by RequestContextMiddleware (ipware costs ~0.1 ms a request).
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False

"""Structured logging: one JSON object per line (or key=value lines for local work).

structlog events and standard-library records (Django, botocore, gunicorn) go
through the same processors and renderer, so in json mode no plain-text line
slips out. Request context (request_id, method, endpoint, api_key, tenant_id)
is bound with contextvars by the middleware and merged into every line.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = ["build_logging_config", "configure_structlog", "get_logger"]

# Tracebacks as fields, without local variables: locals could hold API keys or payloads.
_exception_fields = structlog.processors.ExceptionRenderer(
    ExceptionDictTransformer(show_locals=False)
)


# The fields a reader looks for first; the rest follow in the order they were bound.
_LEADING_FIELDS = ("timestamp", "level", "event", "logger", "request_id")


def _orjson_line(event_dict: EventDict, **_: Any) -> str:
    ordered = {key: event_dict.pop(key) for key in _LEADING_FIELDS if key in event_dict}
    ordered.update(event_dict)
    return orjson.dumps(ordered, default=str).decode()


def _drop_color_message(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    event_dict.pop("color_message", None)  # uvicorn/gunicorn extras duplicate `event`
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        _drop_color_message,
    ]


def _renderer(fmt: str) -> Processor:
    if fmt == "console":
        return structlog.dev.ConsoleRenderer(colors=False)
    return structlog.processors.JSONRenderer(serializer=_orjson_line)


def build_logging_config(*, level: str, fmt: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` dict, used by Django (LOGGING) and gunicorn."""
    quiet = logging.getLevelName(max(logging.WARNING, logging.getLevelName(level)))
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": _shared_processors(),
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    _exception_fields,
                    _renderer(fmt),
                ],
            }
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "structured",
            }
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            # Our own handlers only; no propagation means no duplicate lines.
            "gunicorn.error": {"handlers": ["stdout"], "level": level, "propagate": False},
            "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            # Chatty libraries: warnings and worse only.
            "botocore": {"level": quiet},
            "boto3": {"level": quiet},
            "urllib3": {"level": quiet},
            "pynamodb": {"level": quiet},
            # request_finished already reports every 4xx/5xx; Django's own lines repeat it.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": quiet},
        },
    }


def configure_structlog() -> None:
    """Route structlog through the standard library, where the formatter above renders it."""
    logging.captureWarnings(True)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            _exception_fields,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger

"""Structured logging: one JSON object per line (or key=value lines for local work).

structlog events and standard-library records (Django, botocore, gunicorn) go
through the same processors and renderer, so in json mode no plain-text line
slips out; structlog's own events take a short cut past the `logging` module,
because they are the ones written on every request. Request context (request_id,
method, endpoint, api_key, tenant_id) is bound with contextvars by the middleware
and merged into every line.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import orjson
import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

from triggers.core.env import env_choice, env_str

__all__ = ["LogSettings", "build_logging_config", "configure_structlog", "get_logger"]

# Tracebacks as fields, without local variables: locals could hold API keys or payloads.
_exception_fields = structlog.processors.ExceptionRenderer(
    ExceptionDictTransformer(show_locals=False)
)


# The fields a reader looks for first; the rest follow in the order they were bound.
_LEADING_FIELDS = ("timestamp", "level", "event", "logger", "request_id")


def _orjson_line(event_dict: EventDict, **_: Any) -> bytes:
    ordered = {key: event_dict.pop(key) for key in _LEADING_FIELDS if key in event_dict}
    ordered.update(event_dict)
    return orjson.dumps(ordered, default=str)


def _drop_color_message(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    event_dict.pop("color_message", None)  # uvicorn/gunicorn extras duplicate `event`
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        _drop_color_message,
    ]


def _renderer(fmt: str) -> Processor:
    if fmt == "console":
        return structlog.dev.ConsoleRenderer(colors=False)
    return structlog.processors.JSONRenderer(serializer=_orjson_line)


def _as_text(_: WrappedLogger, __: str, rendered: Any) -> str:
    """For the standard-library formatter, which must return text."""
    return rendered.decode() if isinstance(rendered, bytes) else str(rendered)


def _as_bytes(_: WrappedLogger, __: str, rendered: Any) -> bytes:
    """For structlog's BytesLogger, which writes bytes."""
    return rendered if isinstance(rendered, bytes) else str(rendered).encode()


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("json", "console")


@dataclass(frozen=True)
class LogSettings:
    """Where and how lines are written. `file` empty: to stdout (`make run`, the tests);
    a path: appended there instead (on Elastic Beanstalk, the file its CloudWatch agent
    streams, so every event there is exactly one JSON line, with no syslog prefix)."""

    level: str
    fmt: str
    file: str

    @classmethod
    def from_env(cls) -> LogSettings:
        """LOG_LEVEL, LOG_FORMAT and LOG_FILE, validated (read by Django and gunicorn)."""
        return cls(
            level=env_choice("LOG_LEVEL", "INFO", LOG_LEVELS),
            fmt=env_choice("LOG_FORMAT", "json", LOG_FORMATS),
            file=env_str("LOG_FILE", ""),
        )


def _handler(file: str) -> dict[str, Any]:
    if not file:
        return {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"}
    # Appends only (each record one write to a file opened O_APPEND: workers' lines never
    # interleave). Rotation renames the file (logrotate, .ebextensions/03-logs.config);
    # before each record the handler checks the path and, if it is another file or none,
    # opens it anew, creating it. A line is in the renamed file or in the new one, never
    # lost (truncating in place, copytruncate, loses what is written between its copy
    # and its truncation).
    return {
        "class": "logging.handlers.WatchedFileHandler",
        "filename": file,
        "mode": "a",
        "encoding": "utf-8",
    }


def build_logging_config(log: LogSettings) -> dict[str, Any]:
    """A `logging.config.dictConfig` dict, used by Django (LOGGING) and gunicorn."""
    quiet = logging.getLevelName(max(logging.WARNING, logging.getLevelName(log.level)))
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": [
                    *_shared_processors(),
                    structlog.stdlib.PositionalArgumentsFormatter(),
                ],
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    _exception_fields,
                    _renderer(log.fmt),
                    _as_text,
                ],
            }
        },
        "handlers": {"out": {**_handler(log.file), "formatter": "structured"}},
        "root": {"handlers": ["out"], "level": log.level},
        "loggers": {
            # Our own handlers only; no propagation means no duplicate lines.
            "gunicorn.error": {"handlers": ["out"], "level": log.level, "propagate": False},
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


class _ReopenedWhenRotated:
    """The log file for structlog's BytesLogger, unbuffered (a line, one write), opened
    anew when rotation has renamed it: the check logging.handlers.WatchedFileHandler
    makes for the standard library's lines (a stat of the path before each line)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._file = self._open()

    def _open(self) -> BinaryIO:
        file = Path(self._path).open("ab", buffering=0)  # noqa: SIM115 - open until rotated
        status = os.fstat(file.fileno())
        self._identity = (status.st_dev, status.st_ino)
        return file

    def _renamed(self) -> bool:
        try:
            status = os.stat(self._path)
        except FileNotFoundError:
            return True
        return (status.st_dev, status.st_ino) != self._identity

    def write(self, line: bytes) -> int:
        with self._lock:
            if self._renamed():
                self._file.close()
                self._file = self._open()
            return self._file.write(line)

    def flush(self) -> None:
        """Nothing is buffered."""


def _output(file: str) -> BinaryIO | None:
    """structlog's output: None for stdout, else the file."""
    # BytesLogger calls only write and flush
    return None if not file else cast(BinaryIO, _ReopenedWhenRotated(file))


def configure_structlog(log: LogSettings) -> None:
    """structlog events skip the standard library: they are filtered by level before any
    work is done, rendered once and written straight to the output (the lines of other
    libraries take the `logging` route above, through the same processors)."""
    logging.captureWarnings(True)
    structlog.configure(
        processors=[*_shared_processors(), _exception_fields, _renderer(log.fmt), _as_bytes],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(log.level)),
        logger_factory=structlog.BytesLoggerFactory(file=_output(log.file)),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> FilteringBoundLogger:
    """A structlog logger named `name` (the `logger` field of its lines)."""
    logger: FilteringBoundLogger = structlog.get_logger(name)
    return logger

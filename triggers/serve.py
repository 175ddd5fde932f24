"""The service's entry point: check the whole configuration, then run gunicorn.

    python -m triggers.serve [gunicorn options]   # the Procfile, `make run`, the tests

Every setting, Django's and gunicorn's, is read and validated first, so a bad value
stops start-up with one line naming the variable, before gunicorn is even imported
(gunicorn reads WEB_CONCURRENCY itself, at import time, with a bare `int()`).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

CONFIG = Path(__file__).with_name("gunicorn_conf.py")
APPLICATION = "triggers.wsgi:application"


def check_configuration() -> None:
    """Read every setting the way the server will; ImproperlyConfigured if one is wrong."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggers.settings")
    importlib.import_module("triggers.gunicorn_conf")
    importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"])


def main(argv: list[str]) -> None:
    try:
        check_configuration()
    except ImproperlyConfigured as exc:
        sys.exit(f"Configuration error: {exc}")
    from gunicorn.app.wsgiapp import run  # noqa: PLC0415 - only once WEB_CONCURRENCY is valid

    sys.argv = ["gunicorn", "--config", str(CONFIG), *argv, APPLICATION]
    run()


if __name__ == "__main__":
    main(sys.argv[1:])

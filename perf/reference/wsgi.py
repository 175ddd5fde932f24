"""WSGI entry point of the reference service (gunicorn, same settings as the service)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perf.reference.settings")

application = get_wsgi_application()

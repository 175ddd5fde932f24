"""WSGI entry point, served by gunicorn (see Procfile and triggers/gunicorn_conf.py)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggers.settings")

application = get_wsgi_application()

"""WSGI entry point used by `billy serve` (gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billy.settings")

from billy.api.http.server import read_chunked_body

application = read_chunked_body(get_wsgi_application())

"""WSGI entry point used by `billy serve` (gunicorn)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billy.settings")

from billy.api.http.server import BillyWSGIHandler, read_chunked_body

django.setup(set_prefix=False)  # as django.core.wsgi.get_wsgi_application does
application = read_chunked_body(BillyWSGIHandler())

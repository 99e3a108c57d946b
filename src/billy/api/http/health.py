"""Liveness (`/health`: the process answers) and readiness (`/ready`: the database answers)."""

from django.conf import settings
from django.db import connection

from .errors import error_response
from .rendering import json_response


def health(request):
    return json_response({"status": "ok"})


def ready(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as e:  # noqa: BLE001  (any failure means not ready)
        retry_after = settings.BILLY_RETRY_AFTER_SECONDS
        return error_response("unavailable", f"database unavailable: {e}", retry_after=retry_after)
    return json_response({"status": "ready"})

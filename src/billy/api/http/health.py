"""Liveness (`/health`: the process answers) and readiness (`/ready`: the database answers)."""

from django.db import connection
from django.http import JsonResponse


def health(request):
    return JsonResponse({"status": "ok"})


def ready(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as e:  # noqa: BLE001  (any failure means not ready)
        return JsonResponse(
            {"error": {"code": "upstream_unavailable", "message": f"database unavailable: {e}", "details": {}}},
            status=503,
        )
    return JsonResponse({"status": "ready"})

"""The console's pages, served inside the admin (staff only, the admin's login)."""

from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse

from billy.core import clock

from .dashboard import build_dashboard


def dashboard(request):
    """Money moved per workspace today, this month and day by day; holds about to expire; failing
    jobs; upstreams reachable or not (probed side by side within BILLY_CONSOLE_PROBE_TIMEOUT)."""
    return TemplateResponse(
        request,
        "admin/console/dashboard.html",
        {**admin.site.each_context(request), "title": "Dashboard", "dashboard": build_dashboard(now=clock.now())},
    )

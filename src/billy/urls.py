from django.contrib import admin
from django.shortcuts import redirect
from django.urls import path

from billy.api.http.api import api
from billy.api.http.health import health, ready
from billy.console.views import dashboard

admin.site.site_header = "billy operations"
admin.site.site_title = "billy"
admin.site.index_title = "Workspaces, clients and money"
admin.site.index_template = "admin/billy_index.html"  # the index links to the dashboard

urlpatterns = [
    path("", lambda request: redirect("/admin/")),
    path("health", health),
    path("ready", ready),
    path("admin/dashboard/", admin.site.admin_view(dashboard), name="console-dashboard"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]

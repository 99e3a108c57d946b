from django.contrib import admin
from django.shortcuts import redirect
from django.urls import path

from billy.api.http.api import api
from billy.api.http.health import health, ready

admin.site.site_header = "billy operations"
admin.site.site_title = "billy"
admin.site.index_title = "Workspaces, clients and money"

urlpatterns = [
    path("", lambda request: redirect("/admin/")),
    path("health", health),
    path("ready", ready),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]

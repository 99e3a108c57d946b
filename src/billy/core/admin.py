"""Shared admin pieces: an action that asks for input, then calls one operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from billy.core import clock
from billy.core.errors import BillyError
from billy.core.models import FailedJob
from billy.core.tasks import retry_failed_job


def form_action(
    modeladmin: admin.ModelAdmin,
    request,
    *,
    obj: Any,
    form_class: type[forms.Form],
    title: str,
    intro: str,
    apply: Callable[[dict], str],
):
    """Show `form_class` for one selected object; on a valid submit run `apply(cleaned_data)`.

    `apply` calls the operation and returns the message for the operator; a BillyError it raises
    is shown and the form stays, with nothing changed.
    """
    form = form_class(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        try:
            done = apply(form.cleaned_data)
        except BillyError as e:
            detail = f" {e.details}" if e.details else ""
            modeladmin.message_user(request, f"Nothing done: {e.message}{detail}", messages.ERROR)
        else:
            modeladmin.message_user(request, done, messages.SUCCESS)
            return redirect(request.get_full_path())
    return TemplateResponse(
        request,
        "admin/billy_form_action.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "form": form,
            "action": request.POST.get("action", ""),
            "object_id": obj.pk,
            "opts": modeladmin.model._meta,
        },
    )


@admin.register(FailedJob)
class FailedJobAdmin(admin.ModelAdmin):
    """Jobs that failed for good, with a retry action (the job runs again at once)."""

    list_display = ["id", "task_name", "queue_name", "args", "attempts", "scheduled_at"]
    list_filter = ["queue_name", "task_name"]
    search_fields = ["task_name", "args"]
    actions = ["retry"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status="failed")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.get_fields() if f.concrete]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Retry the selected jobs now")
    def retry(self, request, queryset):
        now = clock.now()
        ids = list(queryset.values_list("id", flat=True))
        for job_id in ids:
            retry_failed_job(job_id=job_id, now=now)
        self.message_user(request, f"{len(ids)} job(s) put back in their queues.", messages.SUCCESS)

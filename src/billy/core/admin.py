"""Shared admin pieces: an action that asks for input, then calls one operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Model, OuterRef, Subquery
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from procrastinate.contrib.django.models import ProcrastinateEvent

from billy.core import clock
from billy.core.admin_display import EMPTY, ReadOnlyAdmin
from billy.core.errors import BillyError
from billy.core.models import FailedJob, JobError
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
    initial: dict | None = None,
):
    """Show `form_class` for one selected object; on a valid submit run `apply(cleaned_data)`.

    `apply` calls the operation and returns the message for the operator; a BillyError it raises
    is shown and the form stays, with nothing changed.
    """
    form = form_class(request.POST if "apply" in request.POST else None, initial=initial)
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


# What a job was about: per task name, the argument that names an object and that object's model.
_JOB_SUBJECTS: dict[str, tuple[str, type[Model]]] = {}


def register_job_subject(task_name: str, *, arg: str, model: type[Model]) -> None:
    """Say which object a task's jobs are about (each app's admin registers its own tasks)."""
    _JOB_SUBJECTS[task_name] = (arg, model)


def job_subject(job) -> SafeString | str:
    """A link to the object the job was about, if its task registered one."""
    arg, model = _JOB_SUBJECTS.get(job.task_name, (None, None))
    value = (job.args or {}).get(arg) if arg else None
    if model is None or value is None:
        return EMPTY
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[value])
    return format_html('<a href="{}">{} {}</a>', url, opts.verbose_name, value)


@admin.register(FailedJob)
class FailedJobAdmin(ReadOnlyAdmin):
    """Jobs that failed for good, with their last error, when, after how many attempts and what they
    were about; a retry action runs them again at once."""

    list_display = ["id", "task_name", "subject", "shown_error", "attempts", "failed_at", "queue_name"]
    list_filter = ["queue_name", "task_name"]
    search_fields = ["task_name", "args"]
    list_select_related = ["error"]
    fields = ["task_name", "queue_name", "subject", "args", "attempts", "failed_at", "shown_error", "shown_traceback"]
    readonly_fields = fields
    actions = ["retry"]

    def get_queryset(self, request):
        last_failure = (
            ProcrastinateEvent.objects.filter(job=OuterRef("pk"), type="failed").order_by("-at").values("at")[:1]
        )
        return super().get_queryset(request).filter(status="failed").annotate(last_failed_at=Subquery(last_failure))

    @admin.display(description="about")
    def subject(self, obj) -> str:
        return job_subject(obj)

    @admin.display(description="error")
    def shown_error(self, obj) -> str:
        return obj.error.error if _has_error(obj) else "(not recorded)"

    @admin.display(description="traceback")
    def shown_traceback(self, obj) -> str:
        error = obj.error if _has_error(obj) else None
        return format_html("<pre>{}</pre>", error.traceback) if error and error.traceback else EMPTY

    @admin.display(description="failed at", ordering="last_failed_at")
    def failed_at(self, obj):
        error = obj.error if _has_error(obj) else None
        return getattr(obj, "last_failed_at", None) or (error.failed_at if error else None)

    @admin.action(description="Retry the selected jobs now")
    def retry(self, request, queryset):
        now = clock.now()
        ids = list(queryset.values_list("id", flat=True))
        for job_id in ids:
            retry_failed_job(job_id=job_id, now=now)
        self.message_user(request, f"{len(ids)} job(s) put back in their queues.", messages.SUCCESS)


def _has_error(job) -> bool:
    try:
        return job.error is not None
    except JobError.DoesNotExist:
        return False

"""Operators see webhook endpoints and their delivery log here; secrets are never shown.

Everything is read-only; the actions call the same operations as the API: enable or disable an
endpoint, replay a delivery (a new attempt with the same event id, made by a job).
"""

from django.contrib import admin, messages

from billy.core import clock
from billy.core.errors import BillyError

from .delivery import replay_delivery
from .endpoints import update_endpoint
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class ReadOnly:
    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnly, admin.ModelAdmin):
    fields = ["id", "workspace", "url", "event_types", "enabled", "after_event_id", "created_at", "updated_at"]
    list_display = ["id", "workspace", "url", "wanted", "enabled", "created_at"]
    list_filter = ["enabled", "workspace"]
    list_select_related = ["workspace"]
    search_fields = ["url", "=id"]
    actions = ["enable", "disable"]

    @admin.display(description="event types")
    def wanted(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.event_types) or "all"

    def _set_enabled(self, request, queryset, enabled: bool) -> None:
        now = clock.now()
        for endpoint in queryset.select_related("workspace"):
            update_endpoint(workspace=endpoint.workspace, endpoint_id=endpoint.pk, enabled=enabled, now=now)
        self.message_user(request, f"{queryset.count()} endpoint(s) {'enabled' if enabled else 'disabled'}.")

    @admin.action(description="Enable the selected endpoints")
    def enable(self, request, queryset):
        self._set_enabled(request, queryset, True)

    @admin.action(description="Disable the selected endpoints (deliveries pause)")
    def disable(self, request, queryset):
        self._set_enabled(request, queryset, False)


class AttemptInline(ReadOnly, admin.TabularInline):
    model = WebhookAttempt
    fields = ["started_at", "finished_at", "status_code", "error", "latency_ms", "replay"]
    extra = 0
    can_delete = False
    ordering = ["id"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnly, admin.ModelAdmin):
    fields = ["id", "endpoint", "event", "status", "attempt_count", "next_attempt_at", "created_at", "finished_at"]
    list_display = ["id", "endpoint", "event_id", "event_type", "status", "attempt_count", "created_at", "finished_at"]
    list_filter = ["status", "endpoint__workspace", "created_at"]
    list_select_related = ["endpoint", "event"]
    search_fields = ["=event__id", "endpoint__url"]
    date_hierarchy = "created_at"
    inlines = [AttemptInline]
    actions = ["replay"]

    @admin.display(description="event type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.action(description="Replay the selected deliveries (send the event again)")
    def replay(self, request, queryset):
        now = clock.now()
        for delivery in queryset.select_related("endpoint__workspace"):
            try:
                replay_delivery(
                    workspace=delivery.endpoint.workspace,
                    endpoint_id=delivery.endpoint_id,
                    delivery_id=delivery.pk,
                    now=now,
                )
            except BillyError as e:
                self.message_user(request, f"Delivery {delivery.pk}: {e.message}", messages.ERROR)
            else:
                self.message_user(request, f"Delivery {delivery.pk}: sent again shortly.", messages.SUCCESS)

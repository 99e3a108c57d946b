from django.contrib import admin, messages

from billy.core import clock
from billy.core.errors import BillyError
from billy.integrations.balance import get_balance

from . import operations
from .models import Client


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = [
        "service_client_id",
        "workspace",
        "name",
        "email",
        "phone",
        "status",
        "balance_client_id",
        "linked",
        "created_at",
    ]
    list_filter = ["status", "workspace", ("configuration_linked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["workspace"]
    search_fields = ["service_client_id", "name"]
    readonly_fields = [
        "workspace",
        "service_client_id",
        "balance_client_id",
        "name",
        "email",
        "phone",
        "status",
        "attention_reason",
        "balance_call_started_at",
        "configuration_linked_at",
        "created_at",
        "updated_at",
    ]
    actions = ["recheck_in_balance", "create_in_balance_anyway"]

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term.isdigit():
            queryset |= self.model.objects.filter(balance_client_id=int(term))
        return queryset, may_have_duplicates

    @admin.display(boolean=True, description="linked")
    def linked(self, obj: Client) -> bool:
        return obj.configuration_linked_at is not None

    def has_add_permission(self, request):
        return False  # clients are registered by their product service through the API

    def has_delete_permission(self, request, obj=None):
        return False

    def _run(self, request, queryset, operation, done: str) -> None:
        balance, now = get_balance(), clock.now()
        for client in queryset.filter(status=Client.Status.NEEDS_ATTENTION):
            try:
                result = operation(client_id=client.pk, balance=balance, now=now)
            except BillyError as e:
                self.message_user(request, f"{client}: {e.message}", messages.WARNING)
            else:
                self.message_user(request, f"{client}: {done} (Balance id {result.balance_client_id}).")

    @admin.action(description="Re-check in Balance and adopt the single match")
    def recheck_in_balance(self, request, queryset):
        self._run(request, queryset, operations.recheck_client_in_balance, "adopted")

    @admin.action(description="Create in Balance anyway (checked: Balance has no such client)")
    def create_in_balance_anyway(self, request, queryset):
        self._run(request, queryset, operations.create_client_in_balance_anyway, "created")

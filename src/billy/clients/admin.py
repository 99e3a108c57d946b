from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist
from django.utils.html import format_html_join

from billy.core import clock
from billy.core.admin import register_job_subject
from billy.core.admin_display import EMPTY, changelist_link, link
from billy.core.errors import BillyError
from billy.integrations.balance import get_balance

from . import operations
from .models import Client

register_job_subject("billy.clients.link_client_configuration", arg="client_id", model=Client)


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    """Clients are registered by their product service through the API: every field is read-only
    (no Save button); the actions resolve a NEEDS_ATTENTION registration through the operations."""

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
        "wallet_link",
        "money",
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

    @admin.display(description="wallet")
    def wallet_link(self, obj: Client):
        try:
            return link(obj.wallet)  # the ledger's account of this client, if it ever had money
        except ObjectDoesNotExist:
            return EMPTY

    @admin.display(description="money")
    def money(self, obj: Client):
        items = [
            changelist_link("charges.charge", "charges", client__id__exact=obj.pk),
            changelist_link(
                "ledger.ledgertransaction", "ledger transactions", entries__account__client__id__exact=obj.pk
            ),
        ]
        return format_html_join(" · ", "{}", ((item,) for item in items))

    def has_add_permission(self, request):
        return False  # clients are registered by their product service through the API

    def has_change_permission(self, request, obj=None):
        return False

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

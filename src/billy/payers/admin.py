from django.contrib import admin, messages

from billy.core import clock
from billy.core.admin import register_job_subject
from billy.core.admin_display import ReadOnlyAdmin, changelist_link, link
from billy.core.errors import BillyError
from billy.integrations.balance import get_balance

from . import operations
from .models import Contract, Payer

register_job_subject("billy.payers.bind_personal_account", arg="contract_pk", model=Contract)


@admin.register(Payer)
class PayerAdmin(ReadOnlyAdmin):
    """Payers are made by their product service through the API; a NEEDS_ATTENTION one is resolved
    by the actions, which call the same operations."""

    list_display = ["payer_id", "client_link", "type", "name", "inn", "status", "balance_person_id", "created_at"]
    list_filter = ["status", "type", "workspace"]
    list_select_related = ["client", "workspace"]
    search_fields = ["payer_id", "name", "inn", "client__service_client_id"]
    fields = [
        "workspace",
        "client_link",
        "payer_id",
        "type",
        "name",
        "long_name",
        "inn",
        "kpp",
        "email",
        "phone",
        "legal_address",
        "postal_address",
        "bik",
        "bank_account",
        "status",
        "balance_person_id",
        "attention_reason",
        "payer_call_started_at",
        "contracts",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    actions = ["recheck_in_balance", "create_in_balance_anyway"]

    @admin.display(description="client")
    def client_link(self, obj: Payer):
        return link(obj.client)

    @admin.display(description="contracts")
    def contracts(self, obj: Payer):
        return changelist_link("payers.contract", "contracts", payer__id__exact=obj.pk)

    def _run(self, request, queryset, operation, done: str) -> None:
        balance, now = get_balance(), clock.now()
        for payer in queryset.filter(status=Payer.Status.NEEDS_ATTENTION):
            try:
                operation(payer_pk=payer.pk, balance=balance, now=now)
            except BillyError as e:
                self.message_user(request, f"{payer}: {e.message}", messages.WARNING)
            else:
                self.message_user(request, f"{payer}: {done}.")

    @admin.action(description="Re-check in Balance and adopt the single match")
    def recheck_in_balance(self, request, queryset):
        self._run(request, queryset, operations.recheck_payer_in_balance, "re-checked")

    @admin.action(description="Create in Balance anyway (checked: Balance has no such person)")
    def create_in_balance_anyway(self, request, queryset):
        self._run(request, queryset, operations.create_payer_in_balance_anyway, "created")

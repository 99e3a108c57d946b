"""Money in for operators: contracts with their personal account and wallet order (and what billy
booked from it), invoices, Balance's notifications as they came (raw, status, what they booked), and
credit transfers; "Re-read from Balance" re-reads a wallet order through the one booking path."""

from django.contrib import admin, messages

from billy.core import clock
from billy.core.admin import register_job_subject
from billy.core.admin_display import ReadOnlyAdmin, changelist_link, link, money
from billy.core.errors import BillyError
from billy.integrations.balance import get_balance
from billy.payers import contracts as contract_operations
from billy.payers.models import Contract

from . import credit, invoices, refresh
from .models import BalanceNotification, CreditTransfer, Invoice

register_job_subject("billy.moneyin.process_notification", arg="notification_pk", model=BalanceNotification)


def _reread(modeladmin, request, contract_pks) -> None:
    balance, now = get_balance(), clock.now()
    for pk in sorted(set(contract_pks)):
        try:
            booked = refresh.refresh_wallet_order(contract_pk=pk, balance=balance, now=now)
        except BillyError as e:
            modeladmin.message_user(request, f"contract {pk}: {e.message}", messages.WARNING)
        else:
            modeladmin.message_user(
                request, f"contract {pk}: re-read; booked {booked.paid} paid and {booked.credit} credit (kopecks)."
            )


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    list_display = [
        "contract_id",
        "client_link",
        "payment_type",
        "status",
        "number",
        "personal_account_number",
        "wallet_order_id",
        "shown_booked",
        "created_at",
    ]
    list_filter = ["status", "payment_type", "workspace"]
    list_select_related = ["client", "workspace"]
    search_fields = ["contract_id", "number", "personal_account_number", "client__service_client_id"]
    fields = [
        "workspace",
        "client_link",
        "contract_id",
        "payer_link",
        "payment_type",
        "currency",
        "shown_credit_limit",
        "payment_term_days",
        "start_date",
        "status",
        "attention_reason",
        "number",
        "balance_contract_id",
        "personal_account_id",
        "personal_account_number",
        "wallet_order_id",
        "shown_booked_paid",
        "shown_booked_credit",
        "bound_at",
        "last_booked_at",
        "related",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    actions = ["reread_from_balance", "bind_personal_account", "recheck_in_balance"]

    @admin.display(description="client")
    def client_link(self, obj: Contract):
        return link(obj.client)

    @admin.display(description="payer")
    def payer_link(self, obj: Contract):
        return link(obj.payer)

    @admin.display(description="credit limit")
    def shown_credit_limit(self, obj: Contract) -> str:
        return money(obj.credit_limit, obj.currency)

    @admin.display(description="booked paid")
    def shown_booked_paid(self, obj: Contract) -> str:
        return money(obj.booked_paid, obj.currency)

    @admin.display(description="booked credit")
    def shown_booked_credit(self, obj: Contract) -> str:
        return money(obj.booked_credit, obj.currency)

    @admin.display(description="booked")
    def shown_booked(self, obj: Contract) -> str:
        return money(obj.booked_paid + obj.booked_credit, obj.currency)

    @admin.display(description="related")
    def related(self, obj: Contract):
        return changelist_link("moneyin.invoice", "invoices", contract__id__exact=obj.pk)

    @admin.action(description="Re-read from Balance (book what is new)")
    def reread_from_balance(self, request, queryset):
        _reread(self, request, queryset.filter(status=Contract.Status.ACTIVE).values_list("pk", flat=True))

    @admin.action(description="Bind the personal account (if Balance has opened it)")
    def bind_personal_account(self, request, queryset):
        balance, now = get_balance(), clock.now()
        for contract in queryset.filter(status=Contract.Status.PENDING):
            try:
                bound = contract_operations.bind_personal_account(contract_pk=contract.pk, balance=balance, now=now)
            except Exception as e:  # noqa: BLE001 (Balance's answer, shown to the operator)
                self.message_user(request, f"{contract}: {e}", messages.WARNING)
            else:
                self.message_user(request, f"{contract}: {'bound' if bound else 'nothing to bind'}.")

    @admin.action(description="Re-check a NEEDS_ATTENTION contract in Balance")
    def recheck_in_balance(self, request, queryset):
        balance, now = get_balance(), clock.now()
        for contract in queryset.filter(status=Contract.Status.NEEDS_ATTENTION):
            try:
                contract_operations.recheck_contract_in_balance(contract_pk=contract.pk, balance=balance, now=now)
            except BillyError as e:
                self.message_user(request, f"{contract}: {e.message}", messages.WARNING)


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["invoice_id", "client_link", "kind", "number", "shown_amount", "shown_paid", "status", "created_at"]
    list_filter = ["status", "kind", "workspace"]
    list_select_related = ["client", "workspace"]
    search_fields = ["invoice_id", "number", "client__service_client_id"]
    fields = [
        "workspace",
        "client_link",
        "invoice_id",
        "kind",
        "contract_link",
        "payer_link",
        "number",
        "shown_amount",
        "shown_paid",
        "status",
        "payment_url",
        "attention_reason",
        "invoice_call_started_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    actions = ["reread_from_balance", "recheck_in_balance"]

    @admin.display(description="client")
    def client_link(self, obj: Invoice):
        return link(obj.client)

    @admin.display(description="contract")
    def contract_link(self, obj: Invoice):
        return link(obj.contract)

    @admin.display(description="payer")
    def payer_link(self, obj: Invoice):
        return link(obj.payer)

    @admin.display(description="amount")
    def shown_amount(self, obj: Invoice) -> str:
        return money(obj.amount, obj.currency)

    @admin.display(description="paid")
    def shown_paid(self, obj: Invoice) -> str:
        return money(obj.paid_amount, obj.currency)

    @admin.action(description="Re-read from Balance (its wallet order and statuses)")
    def reread_from_balance(self, request, queryset):
        _reread(self, request, queryset.values_list("contract_id", flat=True))

    @admin.action(description="Re-check a NEEDS_ATTENTION invoice in Balance")
    def recheck_in_balance(self, request, queryset):
        balance, now = get_balance(), clock.now()
        for invoice in queryset.filter(status=Invoice.Status.NEEDS_ATTENTION):
            try:
                invoices.recheck_invoice_in_balance(invoice_pk=invoice.pk, balance=balance, now=now)
            except BillyError as e:
                self.message_user(request, f"{invoice}: {e.message}", messages.WARNING)


@admin.register(BalanceNotification)
class BalanceNotificationAdmin(ReadOnlyAdmin):
    """Every NotifyOrder as it came: a FORGED one (a wrong secret) and an IGNORED one (about no
    wallet order of the workspace) are kept here for operators, and changed nothing."""

    list_display = [
        "id",
        "workspace",
        "order_id",
        "seq",
        "status",
        "deliveries",
        "shown_booked",
        "remote_addr",
        "received_at",
    ]
    list_filter = ["status", "workspace"]
    list_select_related = ["workspace"]
    search_fields = ["=order_id", "remote_addr"]
    fields = [
        "workspace",
        "contract_link",
        "service_id",
        "order_id",
        "seq",
        "paid_total",
        "credit_total",
        "status",
        "deliveries",
        "booked_paid",
        "booked_credit",
        "remote_addr",
        "received_at",
        "processed_at",
        "body",
    ]
    readonly_fields = fields
    actions = ["reread_from_balance"]

    @admin.display(description="contract")
    def contract_link(self, obj: BalanceNotification):
        return link(obj.contract)

    @admin.display(description="booked (kopecks)")
    def shown_booked(self, obj: BalanceNotification) -> int:
        return obj.booked_paid + obj.booked_credit

    @admin.action(description="Re-read its wallet order from Balance")
    def reread_from_balance(self, request, queryset):
        _reread(self, request, queryset.exclude(contract=None).values_list("contract_id", flat=True))


@admin.register(CreditTransfer)
class CreditTransferAdmin(ReadOnlyAdmin):
    list_display = ["transfer_id", "client_link", "shown_amount", "status", "failure_code", "created_at"]
    list_filter = ["status", "workspace"]
    list_select_related = ["client", "workspace"]
    search_fields = ["transfer_id", "client__service_client_id"]
    fields = [
        "workspace",
        "client_link",
        "contract_link",
        "transfer_id",
        "shown_amount",
        "status",
        "failure_code",
        "attention_reason",
        "deposit_call_started_at",
        "credit_total_before",
        "balance_invoice_id",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    actions = ["mark_succeeded", "mark_failed"]

    @admin.display(description="client")
    def client_link(self, obj: CreditTransfer):
        return link(obj.client)

    @admin.display(description="contract")
    def contract_link(self, obj: CreditTransfer):
        return link(obj.contract)

    @admin.display(description="amount")
    def shown_amount(self, obj: CreditTransfer) -> str:
        return money(obj.amount, obj.currency)

    def _settle(self, request, queryset, *, succeeded: bool) -> None:
        now = clock.now()
        for transfer in queryset.filter(status=CreditTransfer.Status.NEEDS_ATTENTION):
            credit.settle_credit_transfer(transfer_pk=transfer.pk, succeeded=succeeded, now=now)
            self.message_user(request, f"{transfer}: marked {'succeeded' if succeeded else 'failed'}.")

    @admin.action(description="Checked in Balance: the deposit happened (mark succeeded)")
    def mark_succeeded(self, request, queryset):
        self._settle(request, queryset, succeeded=True)

    @admin.action(description="Checked in Balance: no deposit (mark failed, give the credit back)")
    def mark_failed(self, request, queryset):
        self._settle(request, queryset, succeeded=False)

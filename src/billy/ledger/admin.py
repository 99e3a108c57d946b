from django import forms
from django.contrib import admin, messages
from django.db.models import Sum

from billy.core import clock
from billy.core.admin import form_action
from billy.core.money import format_amount, parse_amount_field

from . import operations
from .models import Account, Adjustment, Entry, LedgerTransaction
from .postings import available


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is append-only: shown, never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AdjustmentForm(forms.Form):
    adjustment_id = forms.CharField(max_length=128)
    amount = forms.CharField(help_text='A decimal string, e.g. "100.00" or "-25.50".')
    reason = forms.CharField(max_length=512, widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "kind",
        "workspace",
        "client",
        "currency",
        "shown_balance",
        "shown_held",
        "shown_available",
    ]
    list_filter = ["kind", "workspace", "currency"]
    list_select_related = ["workspace", "client"]
    search_fields = ["client__service_client_id", "client__name"]
    actions = ["adjust"]

    @admin.display(description="balance")
    def shown_balance(self, obj: Account) -> str:
        if obj.kind == Account.Kind.WALLET:
            return format_amount(obj.balance)
        # System accounts keep no running balance: it is the sum of their entries.
        return format_amount(obj.entries.aggregate(total=Sum("amount"))["total"] or 0)

    @admin.display(description="held")
    def shown_held(self, obj: Account) -> str:
        return format_amount(obj.held)

    @admin.display(description="available")
    def shown_available(self, obj: Account) -> str:
        return format_amount(available(balance=obj.balance, held=obj.held)) if obj.kind == Account.Kind.WALLET else "—"

    @admin.action(description="Adjust the selected wallet (a correction with a reason)")
    def adjust(self, request, queryset):
        wallets = list(queryset.filter(kind=Account.Kind.WALLET).select_related("client__workspace"))
        if len(wallets) != 1:
            self.message_user(request, "Select exactly one wallet to adjust.", messages.WARNING)
            return None
        wallet = wallets[0]

        def apply(data: dict) -> str:
            adjustment, created = operations.adjust_wallet(
                client=wallet.client,
                adjustment_id=data["adjustment_id"],
                amount=parse_amount_field("amount", data["amount"], signed=True),
                reason=data["reason"],
                actor=f"admin {request.user.get_username()}",
                now=clock.now(),
            )
            verb = "Adjusted" if created else "Already adjusted"
            return f"{verb}: {format_amount(adjustment.amount)} {adjustment.currency}."

        return form_action(
            self,
            request,
            obj=wallet,
            form_class=AdjustmentForm,
            title="Adjust wallet",
            intro=f"Wallet of {wallet.client.service_client_id} ({wallet.client.workspace.name}): "
            f"{format_amount(available(balance=wallet.balance, held=wallet.held))} {wallet.currency} available. "
            "The correction is posted "
            "against the workspace's corrections account.",
            apply=apply,
        )


class EntryInline(admin.TabularInline):
    model = Entry
    fields = ["account", "amount", "currency", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "workspace", "description", "created_at"]
    list_filter = ["kind", "workspace"]
    list_select_related = ["workspace"]
    date_hierarchy = "created_at"
    inlines = [EntryInline]


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "transaction", "account", "amount", "currency", "created_at"]
    list_filter = ["currency", "account__kind"]
    list_select_related = ["transaction", "account"]
    search_fields = ["=transaction__id", "account__client__service_client_id"]


@admin.register(Adjustment)
class AdjustmentAdmin(ReadOnlyAdmin):
    list_display = ["adjustment_id", "workspace", "wallet", "amount", "currency", "reason", "created_by", "created_at"]
    list_filter = ["workspace"]
    list_select_related = ["workspace", "wallet"]
    search_fields = ["adjustment_id", "reason"]

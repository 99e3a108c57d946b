"""Charges and their refunds in the admin: read-only records with links to the client, the wallet
and the ledger; the refund action calls `refund_charge`, as the API does."""

from django import forms
from django.contrib import admin, messages

from billy.core import clock
from billy.core.admin import form_action
from billy.core.admin_display import ReadOnlyAdmin, ReadOnlyInline, link, money
from billy.core.admin_export import CsvExportMixin
from billy.core.money import format_amount, parse_amount_field

from . import operations
from .models import Charge, Refund


class RefundForm(forms.Form):
    refund_id = forms.CharField(max_length=128)
    amount = forms.CharField(required=False, help_text="What to give back; empty: all that is left.")
    reason = forms.CharField(max_length=512, required=False)


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["refund_id", "shown_amount", "reason", "transaction_link", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("transaction", "charge")

    @admin.display(description="amount")
    def shown_amount(self, obj: Refund) -> str:
        return money(obj.amount, obj.charge.currency)

    @admin.display(description="ledger transaction")
    def transaction_link(self, obj: Refund):
        return link(obj.transaction)


@admin.register(Charge)
class ChargeAdmin(CsvExportMixin, ReadOnlyAdmin):
    list_display = [
        "charge_id",
        "workspace",
        "client_link",
        "product",
        "shown_amount",
        "status",
        "shown_refunded",
        "created_at",
    ]
    list_filter = ["status", "workspace", "product", "hold"]
    list_select_related = ["workspace", "client"]
    search_fields = ["charge_id", "client__service_client_id", "product"]
    date_hierarchy = "created_at"
    fields = [
        "charge_id",
        "workspace",
        "client_link",
        "wallet_link",
        "product",
        "description",
        "status",
        "hold",
        "shown_requested",
        "shown_captured",
        "shown_refunded",
        "shown_refundable",
        "hold_expires_at",
        "cancel_reason",
        "transaction_link",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [RefundInline]
    actions = ["refund"]
    export_name = "charges"
    export_columns = [
        ("charge_id", lambda c: c.charge_id),
        ("workspace", lambda c: c.workspace.name),
        ("client", lambda c: c.client.service_client_id),
        ("client_name", lambda c: c.client.name),
        ("product", lambda c: c.product),
        ("status", lambda c: c.status),
        ("hold", lambda c: "yes" if c.hold else "no"),
        ("amount", lambda c: format_amount(c.amount)),
        ("captured", lambda c: format_amount(c.captured)),
        ("refunded", lambda c: format_amount(c.refunded)),
        ("currency", lambda c: c.currency),
        ("created_at", lambda c: c.created_at.isoformat()),
        ("hold_expires_at", lambda c: c.hold_expires_at.isoformat() if c.hold_expires_at else ""),
        ("cancel_reason", lambda c: c.cancel_reason),
        ("description", lambda c: c.description),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("workspace", "client", "wallet__client", "transaction")

    @admin.display(description="client", ordering="client__service_client_id")
    def client_link(self, obj: Charge):
        return link(obj.client)

    @admin.display(description="wallet")
    def wallet_link(self, obj: Charge):
        return link(obj.wallet)

    @admin.display(description="ledger transaction")
    def transaction_link(self, obj: Charge):
        return link(obj.transaction)

    @admin.display(description="amount")
    def shown_amount(self, obj: Charge) -> str:
        return money(obj.captured or obj.amount, obj.currency)

    @admin.display(description="requested (held)")
    def shown_requested(self, obj: Charge) -> str:
        return money(obj.amount, obj.currency)

    @admin.display(description="charged")
    def shown_captured(self, obj: Charge) -> str:
        return money(obj.captured, obj.currency)

    @admin.display(description="refunded")
    def shown_refunded(self, obj: Charge) -> str:
        return money(obj.refunded, obj.currency)

    @admin.display(description="left to refund")
    def shown_refundable(self, obj: Charge) -> str:
        return money(obj.refundable, obj.currency)

    @admin.action(description="Refund the selected charge")
    def refund(self, request, queryset):
        charges = list(queryset.select_related("workspace"))
        if len(charges) != 1:
            self.message_user(request, "Select exactly one charge to refund.", messages.WARNING)
            return None
        charge = charges[0]

        def apply(data: dict) -> str:
            refund, created = operations.refund_charge(
                workspace=charge.workspace,
                charge_id=charge.charge_id,
                refund_id=data["refund_id"],
                amount=parse_amount_field("amount", data["amount"] or None),
                reason=data["reason"],
                now=clock.now(),
            )
            verb = "Refunded" if created else "Already refunded"
            return f"{verb}: {money(refund.amount, charge.currency)}."

        return form_action(
            self,
            request,
            obj=charge,
            form_class=RefundForm,
            title="Refund charge",
            intro=f"Charge {charge.charge_id} ({charge.product}, {charge.get_status_display()}): charged "
            f"{money(charge.captured, charge.currency)}, refunded so far {money(charge.refunded, charge.currency)}. "
            f"This refunds {money(charge.refundable, charge.currency)} to the client's wallet (all that is left) "
            "unless you enter less below.",
            initial={"amount": format_amount(charge.refundable)},
            apply=apply,
        )


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["refund_id", "workspace", "charge_link", "shown_amount", "reason", "created_at"]
    list_select_related = ["workspace", "charge"]
    search_fields = ["refund_id", "charge__charge_id"]
    fields = ["refund_id", "workspace", "charge_link", "shown_amount", "reason", "transaction_link", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("workspace", "charge", "transaction")

    @admin.display(description="charge")
    def charge_link(self, obj: Refund):
        return link(obj.charge)

    @admin.display(description="amount", ordering="amount")
    def shown_amount(self, obj: Refund) -> str:
        return money(obj.amount, obj.charge.currency)

    @admin.display(description="ledger transaction")
    def transaction_link(self, obj: Refund):
        return link(obj.transaction)

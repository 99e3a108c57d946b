from django import forms
from django.contrib import admin, messages

from billy.core import clock
from billy.core.admin import form_action
from billy.core.money import format_amount, parse_amount_field

from . import operations
from .models import Charge, Refund


class RefundForm(forms.Form):
    refund_id = forms.CharField(max_length=128)
    amount = forms.CharField(required=False, help_text="Empty: all that is left.")
    reason = forms.CharField(max_length=512, required=False)


class RefundInline(admin.TabularInline):
    model = Refund
    fields = ["refund_id", "amount", "reason", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    list_display = [
        "charge_id",
        "workspace",
        "client",
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
    inlines = [RefundInline]
    actions = ["refund"]
    readonly_fields = [f.name for f in Charge._meta.fields]

    @admin.display(description="amount")
    def shown_amount(self, obj: Charge) -> str:
        return f"{format_amount(obj.captured or obj.amount)} {obj.currency}"

    @admin.display(description="refunded")
    def shown_refunded(self, obj: Charge) -> str:
        return format_amount(obj.refunded)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

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
            return f"{verb}: {format_amount(refund.amount)} {charge.currency}."

        return form_action(
            self,
            request,
            obj=charge,
            form_class=RefundForm,
            title="Refund charge",
            intro=f"Charge {charge.charge_id} ({charge.product}, {charge.status}): "
            f"{format_amount(charge.refundable)} {charge.currency} left to refund.",
            apply=apply,
        )


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ["refund_id", "workspace", "charge", "amount", "reason", "created_at"]
    list_select_related = ["workspace", "charge"]
    search_fields = ["refund_id", "charge__charge_id"]
    readonly_fields = [f.name for f in Refund._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

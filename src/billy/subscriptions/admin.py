"""Operators control subscription payments here: plans, subscriptions, payments, refunds, webhooks.

Money and provider fields are read-only; the actions "refund", "re-check with provider", "retry
renewal now" and "turn renewal off" call the same operations as the API and the janitors. A
subscription shows its renewal (on or off, when next, the saved card) and dunning state (declined
tries), and its payments one per period with their attempts.
"""

from django import forms
from django.contrib import admin, messages

from billy.core import clock
from billy.core.admin import form_action, register_job_subject
from billy.core.admin_display import ReadOnlyAdmin, ReadOnlyInline, changelist_link, link, money
from billy.core.errors import BillyError
from billy.core.money import format_amount, parse_amount

from .models import (
    IgnoredNotification,
    Plan,
    ProviderNotification,
    Subscription,
    SubscriptionPayment,
    SubscriptionRefund,
)
from .payments import recheck_payment
from .queries import refund_quote
from .refunds import request_refund, submit_refund
from .renewal_switch import cancel_renewal
from .renewals import retry_renewal_now

for _task, _arg, _model in [
    ("billy.subscriptions.submit_payment", "payment_id", SubscriptionPayment),
    ("billy.subscriptions.renew_subscription", "subscription_id", Subscription),
    ("billy.subscriptions.submit_refund", "refund_id", SubscriptionRefund),
    ("billy.subscriptions.process_notification", "notification_id", ProviderNotification),
    ("billy.subscriptions.grant_role", "subscription_id", Subscription),
    ("billy.subscriptions.revoke_role", "subscription_id", Subscription),
    ("billy.subscriptions.notify_user", "subscription_id", Subscription),
]:
    register_job_subject(_task, arg=_arg, model=_model)


class PlanForm(forms.ModelForm):
    price_text = forms.CharField(label="Price", help_text='A decimal string, e.g. "299.00".')

    class Meta:
        model = Plan
        fields = [
            "workspace",
            "code",
            "title",
            "currency",
            "period",
            "refund_policy",
            "refund_days",
            "role",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["price_text"].initial = format_amount(self.instance.price)

    def clean_price_text(self):
        try:
            price = parse_amount(self.cleaned_data["price_text"])
        except ValueError as e:
            raise forms.ValidationError(str(e)) from e
        if price <= 0:
            raise forms.ValidationError("A price is more than zero.")
        return price

    def save(self, commit=True):
        self.instance.price = self.cleaned_data["price_text"]
        if self.instance.created_at is None:
            self.instance.created_at = clock.now()
        return super().save(commit)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    form = PlanForm
    list_display = ["code", "workspace", "title", "shown_price", "period", "refund_policy", "refund_days", "is_active"]
    list_filter = ["workspace", "is_active", "period"]
    list_select_related = ["workspace"]
    search_fields = ["code", "title"]

    @admin.display(description="price")
    def shown_price(self, obj: Plan) -> str:
        return money(obj.price, obj.currency)

    def get_readonly_fields(self, request, obj=None):
        # Subscriptions keep pointing at a plan: its workspace, code and currency never change.
        return ["workspace", "code", "currency", "created_at"] if obj else ["created_at"]

    def has_delete_permission(self, request, obj=None):
        return False


class ShownAmount:
    """Money as an operator reads it ("299.00 RUB"), never in minor units."""

    @admin.display(description="amount")
    def shown_amount(self, obj) -> str:
        return money(obj.amount, obj.currency)

    @admin.display(description="ledger transaction")
    def transaction_link(self, obj):
        return link(obj.transaction)

    @admin.display(description="subscription")
    def subscription_link(self, obj):
        return link(obj.subscription)


class PaymentInline(ShownAmount, ReadOnlyInline):
    model = SubscriptionPayment
    fields = [
        "period",
        "attempt",
        "id",
        "status",
        "shown_amount",
        "provider_payment_id",
        "failure_reason",
        "transaction_link",
        "created_at",
    ]
    readonly_fields = fields
    ordering = ["-period", "-attempt"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("transaction")


class RefundInline(ShownAmount, ReadOnlyInline):
    model = SubscriptionRefund
    fields = [
        "id",
        "status",
        "shown_amount",
        "reason",
        "failure_reason",
        "requested_by",
        "automatic",
        "transaction_link",
        "created_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("transaction")


class RefundReasonForm(forms.Form):
    reason = forms.CharField(max_length=256, required=False)


class RecordAdmin(ShownAmount, ReadOnlyAdmin):
    """A record written by operations: every field shown read-only, money as decimals, related
    records as links; no Save button."""

    links = {"transaction": "transaction_link", "subscription": "subscription_link", "payment": "payment_link"}

    def get_fields(self, request, obj=None):
        names = [self.links.get(f.name, f.name) for f in self.model._meta.fields]
        if "amount" in names:
            names[names.index("amount")] = "shown_amount"
            names.remove("currency")
        return names

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description="payment")
    def payment_link(self, obj):
        return link(obj.payment)


def _recheck(modeladmin, request, objects, *, what: str, operation) -> None:
    """Ask the provider again about each object, through the operation the janitor uses."""
    now = clock.now()
    for obj in objects:
        try:
            checked = operation(obj.pk, now)
        except BillyError as e:
            modeladmin.message_user(request, f"{what} {obj.pk}: {e.message}", messages.ERROR)
        else:
            modeladmin.message_user(request, f"{what} {obj.pk}: {checked.status}.", messages.SUCCESS)


def _recheck_payments(modeladmin, request, payments) -> None:
    _recheck(
        modeladmin,
        request,
        payments,
        what="Payment",
        operation=lambda pk, now: recheck_payment(payment_id=pk, now=now),
    )


@admin.register(Subscription)
class SubscriptionAdmin(RecordAdmin):
    list_display = [
        "__str__",
        "workspace",
        "user_id",
        "plan",
        "status",
        "period_start",
        "period_end",
        "renews",
        "next_renewal_at",
        "renewal_failures",
        "created_at",
    ]
    links = {"plan": "plan_link"}
    list_filter = ["status", "renews", "plan", "workspace", "created_at"]
    list_select_related = ["workspace", "plan"]
    search_fields = ["user_id", "=id", "payments__provider_payment_id"]
    date_hierarchy = "created_at"
    inlines = [PaymentInline, RefundInline]
    actions = ["refund", "recheck", "retry_renewal", "turn_renewal_off"]

    def get_fields(self, request, obj=None):
        return [*super().get_fields(request, obj), "users_subscriptions"]

    @admin.action(description="Retry renewal now")
    def retry_renewal(self, request, queryset):
        """The next try at paying for the next period, made now instead of on its schedule."""
        for subscription in queryset:
            try:
                payment = retry_renewal_now(subscription_id=subscription.pk, now=clock.now())
            except BillyError as e:
                self.message_user(request, f"{subscription}: {e.message}", messages.ERROR)
                continue
            if payment is None:
                self.message_user(request, f"{subscription}: nothing to renew now.", messages.WARNING)
            else:
                text = f"{subscription}: period {payment.period}, attempt {payment.attempt}: {payment.status}."
                self.message_user(request, text, messages.SUCCESS)

    @admin.action(description="Turn renewal off")
    def turn_renewal_off(self, request, queryset):
        """Renewal off, as the API's cancel: each subscription stays to its period's end, then expires."""
        for subscription in queryset.select_related("workspace"):
            try:
                cancel_renewal(workspace=subscription.workspace, subscription_id=str(subscription.pk), now=clock.now())
            except BillyError as e:
                self.message_user(request, f"{subscription}: {e.message}", messages.ERROR)
            else:
                self.message_user(request, f"{subscription}: renewal is off.", messages.SUCCESS)

    @admin.display(description="plan")
    def plan_link(self, obj: Subscription):
        return link(obj.plan)

    @admin.display(description="user's subscriptions")
    def users_subscriptions(self, obj: Subscription):
        return changelist_link(
            "subscriptions.subscription",
            f"all subscriptions of {obj.user_id}",
            workspace__id__exact=obj.workspace_id,
            user_id=obj.user_id,
        )

    @admin.action(description="Refund the selected subscription")
    def refund(self, request, queryset):
        subscriptions = list(queryset.select_related("workspace", "plan"))
        if len(subscriptions) != 1:
            self.message_user(request, "Select exactly one subscription to refund.", messages.WARNING)
            return None
        subscription = subscriptions[0]
        try:
            amount, currency = refund_quote(subscription=subscription, now=clock.now())
        except BillyError as e:
            self.message_user(request, f"Nothing done: {e.message}", messages.ERROR)
            return None

        def apply(data: dict) -> str:
            refund, created = request_refund(
                workspace=subscription.workspace,
                subscription_id=subscription.pk,
                reason=data["reason"],
                requested_by=f"admin {request.user.get_username()}",
                now=clock.now(),
            )
            verb = "Refund requested" if created else "A refund already exists"
            return f"{verb}: {format_amount(refund.amount)} {refund.currency}, {refund.status}."

        return form_action(
            self,
            request,
            obj=subscription,
            form_class=RefundReasonForm,
            title="Refund subscription",
            intro=f"Subscription {subscription.pk} of user {subscription.user_id} to {subscription.plan.code} "
            f"({subscription.get_status_display()}). This refunds {money(amount, currency)} to the card, as the "
            f"plan's refund policy gives now ({subscription.plan.get_refund_policy_display()}).",
            apply=apply,
        )

    @admin.action(description="Re-check payments with the provider")
    def recheck(self, request, queryset):
        payments = SubscriptionPayment.objects.filter(
            subscription__in=queryset, status__in=[SubscriptionPayment.Status.NEW, SubscriptionPayment.Status.PENDING]
        )
        _recheck_payments(self, request, payments)


@admin.register(SubscriptionPayment)
class SubscriptionPaymentAdmin(RecordAdmin):
    list_display = [
        "__str__",
        "workspace",
        "subscription_link",
        "period",
        "attempt",
        "shown_amount",
        "status",
        "provider_payment_id",
        "created_at",
    ]
    list_filter = ["status", "workspace", "subscription__plan", "created_at"]
    list_select_related = ["workspace", "subscription"]
    search_fields = ["=id", "provider_payment_id", "subscription__user_id"]
    date_hierarchy = "created_at"
    actions = ["recheck"]
    inlines = [RefundInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("workspace", "subscription", "transaction")

    @admin.action(description="Re-check with the provider")
    def recheck(self, request, queryset):
        _recheck_payments(self, request, queryset)


class ProblemFilter(admin.SimpleListFilter):
    title = "problems"
    parameter_name = "problem"

    def lookups(self, request, model_admin):
        return [("yes", "failed refunds")]

    def queryset(self, request, queryset):
        return queryset.filter(status=SubscriptionRefund.Status.FAILED) if self.value() == "yes" else queryset


@admin.register(SubscriptionRefund)
class SubscriptionRefundAdmin(RecordAdmin):
    list_display = [
        "__str__",
        "workspace",
        "subscription_link",
        "shown_amount",
        "status",
        "failure_reason",
        "created_at",
    ]
    list_filter = [ProblemFilter, "status", "workspace", "subscription__plan", "created_at"]
    list_select_related = ["workspace", "subscription"]
    search_fields = ["=id", "provider_refund_id", "payment__provider_payment_id", "subscription__user_id"]
    date_hierarchy = "created_at"
    actions = ["recheck"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("workspace", "subscription", "payment", "transaction")

    @admin.action(description="Re-check with the provider")
    def recheck(self, request, queryset):
        _recheck(
            self,
            request,
            queryset,
            what="Refund",
            operation=lambda pk, now: submit_refund(refund_id=pk, now=now),
        )


@admin.register(ProviderNotification)
class ProviderNotificationAdmin(RecordAdmin):
    list_display = ["id", "workspace", "event", "object_id", "status", "deliveries", "outcome", "received_at"]
    list_filter = ["status", "event", "workspace"]
    list_select_related = ["workspace"]
    search_fields = ["object_id"]


@admin.register(IgnoredNotification)
class IgnoredNotificationAdmin(RecordAdmin):
    """Notifications about objects billy never made, per workspace and event: how many, since when,
    the latest ids and source. A count that climbs fast is a flood (or a shop shared with another system)."""

    list_display = [
        "workspace",
        "provider",
        "event",
        "count",
        "first_seen_at",
        "last_seen_at",
        "latest_ids",
        "last_remote_addr",
    ]
    list_filter = ["workspace", "event"]
    list_select_related = ["workspace"]

    @admin.display(description="latest ids")
    def latest_ids(self, obj: IgnoredNotification) -> str:
        return ", ".join(obj.last_object_ids)

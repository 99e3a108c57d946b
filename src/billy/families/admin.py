"""Operators see family accounts here: families with their members, limits and each member's usage
this month, and the spendings on family cards with their refunds.

Everything is read-only; the actions call the same operations as the API: cancel a held spending,
re-read spendings from the card system (what the janitor does), close a family on its owner's behalf.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.utils.html import format_html, format_html_join

from billy.core import clock
from billy.core.admin_display import ReadOnlyAdmin, ReadOnlyInline, changelist_link, link, money
from billy.core.errors import BillyError
from billy.ledger import limits

from . import membership, spending
from .admin_migration import retry_migrations, retry_migrations_for_new
from .models import Family, FamilyMigration, Spending, SpendingRefund


@admin.register(Family)
class FamilyAdmin(ReadOnlyAdmin):
    list_display = [
        "family_id",
        "name",
        "owner_user_id",
        "workspace",
        "member_count",
        "migration_state",
        "is_active",
        "accepted_at",
    ]
    list_filter = ["is_active", "migration__state", "workspace"]
    list_select_related = ["workspace", "migration"]
    search_fields = ["=family_id", "owner_user_id", "members__user_id", "name"]
    fields = [
        "family_id",
        "workspace",
        "name",
        "color",
        "owner_user_id",
        "payment_method_id",
        "passport_family_id",
        "migrated_at",
        "migration_link",
        "revision",
        "is_active",
        "accepted_at",
        "deleted_at",
        "members_this_month",
        "spendings",
    ]
    readonly_fields = fields
    actions = ["close_family", "retry_migration"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_total=Count("members"))

    @admin.display(description="move to the identity provider", ordering="migration__state")
    def migration_state(self, obj: Family) -> str:
        migration = getattr(obj, "migration", None)
        return migration.get_state_display() if migration else "—"

    @admin.display(description="migration (members' states, last error)")
    def migration_link(self, obj: Family):
        return link(getattr(obj, "migration", None))

    @admin.action(description="Move the selected families to the identity provider (or retry)")
    def retry_migration(self, request, queryset):
        now = clock.now()
        for family in queryset.filter(is_active=True, migration__isnull=True):
            retry_migrations_for_new(family, now)
        asked = retry_migrations(FamilyMigration.objects.filter(family__in=queryset), FamilyMigration.Source.OPERATOR)
        self.message_user(request, f"{asked} migration(s) queued.")

    @admin.display(description="members", ordering="member_total")
    def member_count(self, obj: Family) -> int:
        return obj.member_total

    @admin.display(description="members, limits and usage this month")
    def members_this_month(self, obj: Family):
        members = list(obj.members.select_related("limit"))
        if not members:
            return "—"
        start, _ = limits.frame_of(clock.now(), time_zone=obj.workspace.time_zone)
        usage = limits.usages(limit_ids=[m.limit_id for m in members], frame_start=start)
        currency = obj.workspace.currency
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    m.user_id,
                    m.get_role_display(),
                    "unlimited" if m.limit.amount is None else money(m.limit.amount, currency),
                    money(usage[m.limit_id].used, currency),
                    "—" if usage[m.limit_id].remaining is None else money(usage[m.limit_id].remaining, currency),
                )
                for m in members
            ),
        )
        return format_html(
            "<table><tr><th>user</th><th>role</th><th>limit a month</th><th>used</th><th>left</th></tr>{}</table>",
            rows,
        )

    @admin.display(description="spendings")
    def spendings(self, obj: Family):
        return changelist_link("families.spending", "spendings on the family card", family__id__exact=obj.pk)

    @admin.action(description="Close the selected families (as their owners would)")
    def close_family(self, request, queryset):
        now = clock.now()
        for family in queryset.select_related("workspace").filter(is_active=True):
            membership.delete_family(
                workspace=family.workspace, family_id=family.family_id, acting_user_id=family.owner_user_id, now=now
            )
        self.message_user(request, "Closed.")


class RefundInline(ReadOnlyInline):
    model = SpendingRefund
    fields = ["refund_id", "shown_amount", "status", "failure_reason", "created_at"]
    readonly_fields = fields

    @admin.display(description="amount")
    def shown_amount(self, obj: SpendingRefund) -> str:
        return money(obj.amount, obj.spending.currency)


@admin.register(Spending)
class SpendingAdmin(ReadOnlyAdmin):
    list_display = ["spending_id", "family_link", "user_id", "held", "cleared", "refunded", "status", "created_at"]
    list_filter = ["status", "workspace", "created_at"]
    list_select_related = ["family", "workspace"]
    search_fields = ["=spending_id", "user_id", "=card_payment_id", "=family__family_id"]
    date_hierarchy = "created_at"
    fields = [
        "spending_id",
        "family_link",
        "user_id",
        "held",
        "cleared",
        "refunded",
        "status",
        "cancel_reason",
        "failure_reason",
        "card_id",
        "card_payment_id",
        "frame_start",
        "hold_expires_at",
        "transaction_link",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [RefundInline]
    actions = ["cancel_spendings", "recheck_spendings"]

    @admin.display(description="family")
    def family_link(self, obj: Spending):
        return link(obj.family)

    @admin.display(description="held")
    def held(self, obj: Spending) -> str:
        return money(obj.amount, obj.currency)

    @admin.display(description="cleared")
    def cleared(self, obj: Spending) -> str:
        return money(obj.cleared_amount, obj.currency)

    @admin.display(description="refunded")
    def refunded(self, obj: Spending) -> str:
        return money(obj.refunded_amount, obj.currency)

    @admin.display(description="ledger transaction")
    def transaction_link(self, obj: Spending):
        return link(obj.transaction)

    @admin.action(description="Cancel the selected spendings (release their holds)")
    def cancel_spendings(self, request, queryset):
        now, done, refused = clock.now(), 0, []
        for item in queryset.select_related("workspace"):
            try:
                spending.cancel_spending(workspace=item.workspace, spending_id=item.spending_id, now=now)
                done += 1
            except BillyError as e:
                refused.append(f"{item.spending_id}: {e.message}")
        self.message_user(request, f"{done} cancelled." + (f" Not cancelled: {'; '.join(refused)}" if refused else ""))

    @admin.action(description="Re-read the selected spendings from the card system")
    def recheck_spendings(self, request, queryset):
        now, refused = clock.now(), []
        for item in queryset.filter(status=Spending.Status.PENDING):
            try:
                spending.resolve_spending(spending_pk=item.pk, now=now)
            except BillyError as e:
                refused.append(f"{item.spending_id}: {e.message}")
        self.message_user(request, "Re-read." + (f" Not reached: {'; '.join(refused)}" if refused else ""))

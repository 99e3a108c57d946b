"""Operators see the move of families to the identity provider: each family's migration state,
its members' sub-states and the last error, with a retry action (the same request a lazy trigger
makes); the batch runs with their cursor and tallies; and each workspace's experiment, which they
edit (the share of owners, the allowlist, the deep links of the pushes)."""

from __future__ import annotations

from django.contrib import admin

from billy.core import clock
from billy.core.admin_display import ReadOnlyAdmin, ReadOnlyInline, link

from .migration import ensure_migration
from .migration_trigger import request_migration
from .models import FamilyMigration, MemberMigration, MigrationExperiment, MigrationRun


class MemberMigrationInline(ReadOnlyInline):
    model = MemberMigration
    fields = ["user_id", "identity_uid", "phone", "is_owner", "state", "last_error", "pushed_at"]
    readonly_fields = fields


def retry_migrations(queryset, source: str) -> int:
    """Ask again for the move of the families of `queryset` (FamilyMigration rows) not DONE."""
    now, asked = clock.now(), 0
    for row in queryset.select_related("family").exclude(state=FamilyMigration.State.DONE):
        asked += request_migration(family=row.family, source=source, now=now)
    return asked


def retry_migrations_for_new(family, now) -> None:
    """The family's migration row, so that the retry below asks for its move."""
    ensure_migration(family=family, source=FamilyMigration.Source.OPERATOR, now=now)


@admin.register(FamilyMigration)
class FamilyMigrationAdmin(ReadOnlyAdmin):
    list_display = ["family_link", "workspace", "state", "source", "adopted", "attempts", "last_error", "updated_at"]
    list_filter = ["state", "source", "workspace"]
    list_select_related = ["family", "workspace"]
    search_fields = ["=family__family_id", "family__owner_user_id", "=family__passport_family_id", "members__user_id"]
    fields = [
        "family_link",
        "passport_family_id",
        "workspace",
        "state",
        "source",
        "adopted",
        "attempts",
        "last_error",
        "created_at",
        "updated_at",
        "finished_at",
    ]
    readonly_fields = fields
    inlines = [MemberMigrationInline]
    actions = ["retry"]

    @admin.display(description="family")
    def family_link(self, obj: FamilyMigration):
        return link(obj.family)

    @admin.display(description="identity provider's family")
    def passport_family_id(self, obj: FamilyMigration) -> str:
        return obj.family.passport_family_id or "—"

    @admin.action(description="Retry the move of the selected families to the identity provider")
    def retry(self, request, queryset):
        asked = retry_migrations(queryset, FamilyMigration.Source.OPERATOR)
        self.message_user(request, f"{asked} migration(s) queued (a family waits in the queue at most once).")


@admin.register(MigrationRun)
class MigrationRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "workspace", "selection", "status", "cursor", "total", "done", "partial", "failed", "skipped"]
    list_filter = ["status", "workspace"]
    fields = [
        "workspace",
        "selection",
        "status",
        "cursor",
        "total",
        "done",
        "partial",
        "failed",
        "skipped",
        "started_at",
        "updated_at",
        "finished_at",
    ]
    readonly_fields = fields


@admin.register(MigrationExperiment)
class MigrationExperimentAdmin(admin.ModelAdmin):
    list_display = ["workspace", "percent", "owner_deep_link", "member_deep_link"]
    fields = ["workspace", "percent", "allowlist", "owner_deep_link", "member_deep_link"]

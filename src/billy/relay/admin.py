"""Operators see the relay's position and lag per stream and workspace here (read-only)."""

from django.contrib import admin
from django.db.models.expressions import RawSQL

from billy.core import clock
from billy.core.admin_display import ReadOnlyAdmin

from .models import RelayCursor
from .queries import BEHIND_SQL, OLDEST_SQL


@admin.register(RelayCursor)
class RelayCursorAdmin(ReadOnlyAdmin):
    list_display = ["stream", "workspace", "behind", "oldest_unpublished", "published_count", "updated_at"]
    list_filter = ["stream"]
    list_select_related = ["workspace"]
    fields = [*list_display, "after_event_id"]
    readonly_fields = fields

    def get_queryset(self, request):
        # One query for the page: the lag of every row comes with it.
        return (
            super()
            .get_queryset(request)
            .annotate(behind_count=RawSQL(BEHIND_SQL, []), oldest_at=RawSQL(OLDEST_SQL, []))  # noqa: S611 (fixed SQL)
        )

    @admin.display(description="events behind", ordering="behind_count")
    def behind(self, obj: RelayCursor) -> int:
        return obj.behind_count

    @admin.display(description="oldest unpublished")
    def oldest_unpublished(self, obj: RelayCursor) -> str:
        if obj.oldest_at is None:
            return "none: up to date"
        return f"written {(clock.now() - obj.oldest_at).total_seconds():.0f} s ago ({obj.oldest_at:%Y-%m-%d %H:%M:%S})"

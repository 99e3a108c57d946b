"""Consumption for operators: each wallet order's reported total against billy's and the lag, the
reports sent, the acts Balance formed, and each month's reconciliation with its mismatches (links
to the client, its charges and its acts) and a chart of the month's daily consumption, billy's
against what billy's reports told Balance, so an operator sees the day where they part."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from procrastinate.exceptions import AlreadyEnqueued

from billy.core import clock
from billy.core.admin_display import EMPTY, ReadOnlyAdmin, changelist_link, link, money
from billy.core.charts import Series, daily_bars
from billy.core.tasks import defer

from .models import Act, OrderReport, Reconciliation, ReconciliationLine, Report
from .reconciliation import daily_consumption
from .tasks import REPORT_TASK


@admin.register(OrderReport)
class OrderReportAdmin(ReadOnlyAdmin):
    list_display = [
        "order_id",
        "client_link",
        "billy_total",
        "shown_reported_total",
        "lag",
        "reported_at",
        "shown_balance_total",
        "last_error",
    ]
    list_filter = ["workspace"]
    list_select_related = ["wallet__client", "workspace"]
    search_fields = ["order_id", "wallet__client__service_client_id"]
    actions = ["report_now"]

    @admin.display(description="client")
    def client_link(self, obj: OrderReport):
        return link(obj.wallet.client)

    @admin.display(description="billy's total")
    def billy_total(self, obj: OrderReport) -> str:
        return money(obj.wallet.net_consumption, obj.wallet.currency)

    @admin.display(description="reported total")
    def shown_reported_total(self, obj: OrderReport) -> str:
        return money(obj.reported_total, obj.wallet.currency)

    @admin.display(description="lag")
    def lag(self, obj: OrderReport) -> str:
        behind = obj.wallet.net_consumption - obj.reported_total
        if not behind:
            return "none"
        since = obj.reported_at or obj.created_at
        minutes = int((clock.now() - since).total_seconds() // 60)
        return f"{money(behind, obj.wallet.currency)}, last report {minutes} min ago"

    @admin.display(description="Balance's consumed total (when last read)")
    def shown_balance_total(self, obj: OrderReport) -> str:
        return money(obj.balance_total, obj.wallet.currency)

    @admin.action(description="Report consumption now (every order that moved)")
    def report_now(self, request, queryset):
        """Defers the reporting job (runs of it never overlap: the job's own lock), rather than
        reporting in the request."""
        try:
            with transaction.atomic():
                defer(REPORT_TASK, queueing_lock=REPORT_TASK, timestamp=int(clock.now().timestamp()))
        except AlreadyEnqueued:
            self.message_user(request, "A reporting run is already waiting for a worker.", messages.INFO)
            return
        self.message_user(request, "Reporting deferred: a worker runs it now.", messages.INFO)


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ["order_id", "shown_total", "as_of", "sent_at", "code"]
    list_filter = ["code", "workspace"]
    list_select_related = ["wallet"]
    search_fields = ["order_id"]

    @admin.display(description="consumed total")
    def shown_total(self, obj: Report) -> str:
        return money(obj.consumed_total, obj.wallet.currency)


@admin.register(Act)
class ActAdmin(ReadOnlyAdmin):
    list_display = ["number", "client_link", "act_date", "shown_amount", "shown_vat", "order_id", "fetched_at"]
    list_filter = ["workspace", "act_date"]
    list_select_related = ["client"]
    search_fields = ["number", "client__service_client_id", "order_id"]
    date_hierarchy = "act_date"

    @admin.display(description="client")
    def client_link(self, obj: Act):
        return link(obj.client)

    @admin.display(description="amount")
    def shown_amount(self, obj: Act) -> str:
        return money(obj.amount, obj.currency)

    @admin.display(description="VAT")
    def shown_vat(self, obj: Act) -> str:
        return money(obj.vat, obj.currency)


def _differences(line: ReconciliationLine, currency: str) -> str:
    return ", ".join(f"{d['reason']} {money(d['amount'], currency)}" for d in line.differences) or EMPTY


def _client_links(line: ReconciliationLine):
    return format_html_join(
        " · ",
        "{}",
        (
            (link(line.client, line.client.service_client_id),),
            (changelist_link("charges.charge", "charges", client__id__exact=line.client_id),),
            (changelist_link("consumption.act", "acts", client__id__exact=line.client_id),),
        ),
    )


@admin.register(Reconciliation)
class ReconciliationAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "month", "clients", "mismatches", "ledger", "reported", "acts", "created_at"]
    list_filter = ["workspace", "month"]
    list_select_related = ["workspace"]
    fields = ["workspace", "month", "clients", "mismatches", "ledger", "reported", "acts", "created_at", "chart"]
    readonly_fields = [*fields, "mismatched_lines"]

    def get_fields(self, request, obj=None):
        return [*self.fields, "mismatched_lines"]

    @admin.display(description="billy's ledger")
    def ledger(self, obj: Reconciliation) -> str:
        return money(obj.ledger_total, obj.currency)

    @admin.display(description="reported")
    def reported(self, obj: Reconciliation) -> str:
        return money(obj.reported_total, obj.currency)

    @admin.display(description="acts")
    def acts(self, obj: Reconciliation) -> str:
        return money(obj.act_total, obj.currency)

    @admin.display(description="daily consumption")
    def chart(self, obj: Reconciliation):
        days = daily_consumption(workspace=obj.workspace, month=obj.month)
        svg = daily_bars(
            days=[d for d, _, _ in days],
            series=[
                Series("billy's ledger", "billy-side", [b for _, b, _ in days]),
                Series("reported to Balance", "balance-side", [r for _, _, r in days]),
            ],
            currency=obj.currency,
            title=f"{obj.workspace.name} {obj.month:%Y-%m}: daily consumption, billy against Balance",
        )
        legend = mark_safe(
            '<div class="legend"><span class="key billy-side"></span>billy\'s ledger'
            '<span class="key balance-side"></span>reported to Balance (by as-of day)</div>'
        )
        style = format_html('<link rel="stylesheet" href="{}">', static("billy/admin.css"))
        return format_html('{}<div class="billy-reconciliation">{}{}</div>', style, svg, legend)

    @admin.display(description="mismatches (the first 100)")
    def mismatched_lines(self, obj: Reconciliation):
        lines = list(obj.lines.filter(mismatch=True).select_related("client").order_by("id")[:100])
        if not lines:
            return "none"
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td class="money">{}</td><td class="money">{}</td><td class="money">{}</td>'
            "<td>{}</td></tr>",
            (
                (
                    _client_links(line),
                    money(line.ledger, obj.currency),
                    money(line.reported, obj.currency),
                    money(line.act, obj.currency),
                    _differences(line, obj.currency),
                )
                for line in lines
            ),
        )
        every = changelist_link(
            "consumption.reconciliationline", "every mismatch", reconciliation__id__exact=obj.pk, mismatch__exact=1
        )
        return format_html(
            '<table class="billy-reconciliation"><tr><th>client</th><th class="money">ledger</th>'
            '<th class="money">reported</th><th class="money">act</th><th>differences</th></tr>{}</table>{}',
            rows,
            every,
        )


@admin.register(ReconciliationLine)
class ReconciliationLineAdmin(ReadOnlyAdmin):
    list_display = ["client_links", "order_id", "shown_ledger", "shown_reported", "shown_act", "shown_differences"]
    list_filter = ["mismatch", "reconciliation"]
    list_select_related = ["client", "reconciliation"]
    search_fields = ["client__service_client_id", "order_id"]

    @admin.display(description="client")
    def client_links(self, obj: ReconciliationLine):
        return _client_links(obj)

    @admin.display(description="ledger")
    def shown_ledger(self, obj: ReconciliationLine) -> str:
        return money(obj.ledger, obj.reconciliation.currency)

    @admin.display(description="reported")
    def shown_reported(self, obj: ReconciliationLine) -> str:
        return money(obj.reported, obj.reconciliation.currency)

    @admin.display(description="act")
    def shown_act(self, obj: ReconciliationLine) -> str:
        return money(obj.act, obj.reconciliation.currency)

    @admin.display(description="differences")
    def shown_differences(self, obj: ReconciliationLine) -> str:
        return _differences(obj, obj.reconciliation.currency)

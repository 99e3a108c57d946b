"""The ledger in the admin: accounts with their figures and statements, transactions with their
entries and what they were for, adjustments. History is read-only; a wallet is corrected through
the adjust action, which calls `adjust_wallet`."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, F, OuterRef, Prefetch, Subquery, Sum, When
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from billy.core import clock
from billy.core.admin import form_action
from billy.core.admin_display import EMPTY, ReadOnlyAdmin, ReadOnlyInline, changelist_link, link, money
from billy.core.admin_export import CsvExportMixin
from billy.core.money import format_amount, parse_amount_field

from . import operations
from .models import Account, Adjustment, Entry, LedgerTransaction
from .postings import available
from .queries import account_statement


class AdjustmentForm(forms.Form):
    adjustment_id = forms.CharField(max_length=128)
    amount = forms.CharField(help_text='A decimal string, e.g. "100.00" or "-25.50".')
    reason = forms.CharField(max_length=512, widget=forms.Textarea(attrs={"rows": 3}))


class StatementForm(forms.Form):
    start = forms.DateField(label="from", help_text="The first day, in the workspace's time zone.")
    end = forms.DateField(label="until", help_text="The day after the last (periods are half-open).")

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] >= data["end"]:
            raise forms.ValidationError("The period must start before it ends.")
        return data


def _system_balance():
    """System accounts keep no running balance: it is the sum of their entries."""
    total = Entry.objects.filter(account=OuterRef("pk")).values("account").annotate(total=Sum("amount"))
    return Case(When(kind=Account.Kind.WALLET, then=F("balance")), default=Coalesce(Subquery(total.values("total")), 0))


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "workspace", "client_link", "shown_balance", "shown_held", "shown_available"]
    list_filter = ["kind", "workspace", "currency"]
    list_select_related = ["workspace", "client"]
    search_fields = ["client__service_client_id", "client__name"]
    fields = [
        "kind",
        "workspace",
        "client_link",
        "shown_balance",
        "shown_held",
        "shown_available",
        "shown_credit_limit",
        "shown_credit_used",
        "shown_net_consumption",
        "created_at",
        "history",
    ]
    readonly_fields = fields
    actions = ["adjust"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("workspace", "client").annotate(posted=_system_balance())

    @admin.display(description="client")
    def client_link(self, obj: Account):
        return link(obj.client)

    @admin.display(description="balance")
    def shown_balance(self, obj: Account) -> str:
        return money(obj.posted, obj.currency)

    @admin.display(description="held")
    def shown_held(self, obj: Account) -> str:
        return money(obj.held, obj.currency) if obj.kind == Account.Kind.WALLET else EMPTY

    @admin.display(description="available")
    def shown_available(self, obj: Account) -> str:
        if obj.kind != Account.Kind.WALLET:
            return EMPTY
        return money(available(balance=obj.balance, held=obj.held), obj.currency)

    @admin.display(description="credit limit")
    def shown_credit_limit(self, obj: Account) -> str:
        return money(obj.credit_limit, obj.currency) if obj.kind == Account.Kind.WALLET else EMPTY

    @admin.display(description="credit used")
    def shown_credit_used(self, obj: Account) -> str:
        return money(obj.credit_used, obj.currency) if obj.kind == Account.Kind.WALLET else EMPTY

    @admin.display(description="net consumption")
    def shown_net_consumption(self, obj: Account) -> str:
        return money(obj.net_consumption, obj.currency) if obj.kind == Account.Kind.WALLET else EMPTY

    @admin.display(description="history")
    def history(self, obj: Account):
        items = [
            format_html(
                '<a href="{}">statement for a period</a>', reverse("admin:ledger_account_statement", args=[obj.pk])
            ),
            changelist_link("ledger.ledgertransaction", "ledger transactions", entries__account__id__exact=obj.pk),
            changelist_link("ledger.entry", "entries", account__id__exact=obj.pk),
        ]
        if obj.kind == Account.Kind.WALLET:
            items += [
                changelist_link("charges.charge", "charges", wallet__id__exact=obj.pk),
                changelist_link("ledger.adjustment", "adjustments", wallet__id__exact=obj.pk),
            ]
        return format_html_join(" · ", "{}", ((item,) for item in items))

    def get_urls(self):
        view = self.admin_site.admin_view(self.statement_view)
        return [path("<int:account_id>/statement/", view, name="ledger_account_statement"), *super().get_urls()]

    def statement_view(self, request, account_id: int):
        """The account's opening balance, movements and closing balance for a period of days in its
        workspace's time zone (this month unless asked otherwise)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        account = get_object_or_404(Account.objects.select_related("workspace", "client"), pk=account_id)
        zone = zoneinfo.ZoneInfo(account.workspace.time_zone)
        today = clock.now().astimezone(zone).date()
        month = today.replace(day=1)
        form = StatementForm(
            request.GET
            if "start" in request.GET or "end" in request.GET
            else {"start": month.isoformat(), "end": (month + dt.timedelta(days=32)).replace(day=1).isoformat()}
        )
        statement, page, pages = None, 1, 1
        if form.is_valid():
            start = dt.datetime.combine(form.cleaned_data["start"], dt.time(), tzinfo=zone)
            end = dt.datetime.combine(form.cleaned_data["end"], dt.time(), tzinfo=zone)
            page = _page_number(request.GET.get("page"))
            statement = account_statement(account=account, start=start, end=end, limit=500, offset=(page - 1) * 500)
            pages = max(1, -(-statement.count // 500))
        return TemplateResponse(
            request,
            "admin/ledger/account/statement.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Statement: {account}",
                "opts": self.model._meta,
                "original": account,
                "account": account,
                "form": form,
                "statement": statement,
                "time_zone": account.workspace.time_zone,
                "page": page,
                "pages": pages,
            },
        )

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
            f"{money(available(balance=wallet.balance, held=wallet.held), wallet.currency)} available. "
            "The correction is posted "
            "against the workspace's corrections account.",
            apply=apply,
        )


def _page_number(text: str | None) -> int:
    return int(text) if text and text.isdigit() and 0 < int(text) < 1_000_000 else 1


class EntryInline(ReadOnlyInline):
    model = Entry
    fields = ["account_link", "shown_amount", "created_at"]
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account__client", "account__workspace")

    @admin.display(description="account")
    def account_link(self, obj: Entry):
        return link(obj.account)

    @admin.display(description="amount")
    def shown_amount(self, obj: Entry) -> str:
        return money(obj.amount, obj.currency)


def _source_relations() -> list:
    """What a ledger transaction can be for: the records that point at it one to one (a charge, a
    refund, an adjustment, a card payment or refund), found from the models, so the ledger names none."""
    return [rel for rel in LedgerTransaction._meta.related_objects if rel.one_to_one]


def _sources() -> list[str]:
    return [rel.get_accessor_name() for rel in _source_relations()]


def _source(obj: LedgerTransaction):
    for rel in _source_relations():
        try:
            return getattr(obj, rel.get_accessor_name())
        except rel.related_model.DoesNotExist:
            continue
    return None


def _moved():
    """The money a transaction moved: the sum of its credits (its entries sum to zero)."""
    positive = Entry.objects.filter(transaction=OuterRef("pk"), amount__gt=0).values("transaction")
    return Subquery(positive.annotate(total=Sum("amount")).values("total"))


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(CsvExportMixin, ReadOnlyAdmin):
    list_display = ["id", "kind", "workspace", "made_for", "shown_amount", "description", "created_at"]
    list_filter = ["kind", "workspace"]
    date_hierarchy = "created_at"
    search_fields = ["description"]
    fields = ["kind", "workspace", "made_for", "shown_amount", "description", "created_at"]
    readonly_fields = fields
    inlines = [EntryInline]
    export_name = "ledger-transactions"
    export_columns = [
        ("transaction", lambda e: e.transaction_id),
        ("created_at", lambda e: e.transaction.created_at.isoformat()),
        ("workspace", lambda e: e.transaction.workspace.name),
        ("kind", lambda e: e.transaction.kind),
        ("description", lambda e: e.transaction.description),
        ("account", lambda e: str(e.account)),
        ("client", lambda e: e.account.client.service_client_id if e.account.client_id else ""),
        ("amount", lambda e: format_amount(e.amount)),
        ("currency", lambda e: e.currency),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("workspace", *_sources())
            .annotate(moved=_moved(), moved_currency=Subquery(_currency()))
        )

    def lookup_allowed(self, lookup, value, request=None):
        # An account's page links to the transactions that touched it.
        allowed = lookup in ("entries__account__id__exact", "entries__account__client__id__exact")
        return allowed or super().lookup_allowed(lookup, value, request)

    def get_search_results(self, request, queryset, search_term):
        found, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term.isdigit() and len(term) < 19:
            found |= queryset.filter(pk=int(term))
        return found, duplicates

    # Not `source`: that is the model's own field (the ids as text), which a detail page would show instead.
    @admin.display(description="for")
    def made_for(self, obj: LedgerTransaction):
        return link(_source(obj))

    @admin.display(description="amount")
    def shown_amount(self, obj: LedgerTransaction) -> str:
        return money(obj.moved, obj.moved_currency) if obj.moved is not None else EMPTY

    def export_rows(self, queryset):
        """One row per entry, transaction by transaction in the list's order."""
        entries = Entry.objects.select_related("account__client", "account__workspace").order_by("id")
        for transaction in queryset.prefetch_related(Prefetch("entries", queryset=entries)).iterator(chunk_size=1000):
            for entry in transaction.entries.all():
                entry.transaction = transaction
                yield entry


def _currency():
    return Entry.objects.filter(transaction=OuterRef("pk")).values("currency")[:1]


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "transaction_link", "account_link", "shown_amount", "created_at"]
    list_filter = ["currency", "account__kind"]
    list_select_related = ["transaction", "account__client", "account__workspace"]
    search_fields = ["=transaction__id", "account__client__service_client_id"]
    fields = ["transaction_link", "account_link", "shown_amount", "created_at"]
    readonly_fields = fields

    @admin.display(description="transaction")
    def transaction_link(self, obj: Entry):
        return link(obj.transaction)

    @admin.display(description="account")
    def account_link(self, obj: Entry):
        return link(obj.account)

    @admin.display(description="amount", ordering="amount")
    def shown_amount(self, obj: Entry) -> str:
        return money(obj.amount, obj.currency)


@admin.register(Adjustment)
class AdjustmentAdmin(ReadOnlyAdmin):
    list_display = [
        "adjustment_id",
        "workspace",
        "wallet_link",
        "shown_amount",
        "reason",
        "created_by",
        "created_at",
    ]
    list_filter = ["workspace"]
    list_select_related = ["workspace", "wallet__client"]
    search_fields = ["adjustment_id", "reason"]
    fields = [
        "adjustment_id",
        "workspace",
        "wallet_link",
        "shown_amount",
        "reason",
        "transaction_link",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description="wallet")
    def wallet_link(self, obj: Adjustment):
        return link(obj.wallet)

    @admin.display(description="amount", ordering="amount")
    def shown_amount(self, obj: Adjustment) -> str:
        return money(obj.amount, obj.currency)

    @admin.display(description="ledger transaction")
    def transaction_link(self, obj: Adjustment):
        return link(obj.transaction)

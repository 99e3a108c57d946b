"""How the admin shows things: money as decimals with their currency, links between related
objects, read-only pages. Every app's admin builds on these, so a page reads the same everywhere."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import Model
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from billy.core.money import format_amount

EMPTY = "—"


def money(minor: int | None, currency: str) -> str:
    """`"120.00 RUB"` for 12000 kopecks; the ledger's minor units are never shown."""
    return EMPTY if minor is None else f"{format_amount(minor)} {currency}"


def change_url(obj: Model) -> str | None:
    """The object's admin page (None when its model has none)."""
    opts = obj._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return None


def link(obj: Model | None, text: str | None = None):
    """A link to the object's admin page, labelled with `text` or the object itself."""
    if obj is None:
        return EMPTY
    url = change_url(obj)
    label = str(obj) if text is None else text
    return format_html('<a href="{}">{}</a>', url, label) if url else label


def changelist_link(model: str, text: str, **filters):
    """A link to a list page (`model` is "app_label.model_name") filtered by `filters`."""
    app_label, model_name = model.lower().split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(filters), text)


class ReadOnlyAdmin(admin.ModelAdmin):
    """History and records written by operations: shown, never edited here, so the page has no
    Save button (actions that call operations still run from the list)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

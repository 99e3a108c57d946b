"""CSV export of an admin list: exactly the rows its filters, search and date drill-down select,
streamed in chunks through a server-side cursor, so a large export never sits in memory."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse

from billy.core import clock

CHUNK_SIZE = 2000
# A spreadsheet runs a cell that starts with one of these as a formula: text from callers (a
# description, a reason) must not. A negative amount ("-12.50") stays a number.
_FORMULA_START = re.compile(r"^(?:[=+@\t\r]|-(?!\d+(?:\.\d+)?$))")


def safe_cell(value: Any) -> Any:
    """The value as a CSV cell a spreadsheet shows as text (never runs as a formula)."""
    if isinstance(value, str) and _FORMULA_START.match(value):
        return "'" + value
    return "" if value is None else value


class _Lines:
    """A file-like object whose write() returns the line, for csv.writer inside a generator."""

    def write(self, line: str) -> str:
        return line


class CsvExportMixin:
    """Adds "Export CSV" to a ModelAdmin's list page (`<list>/export.csv?<the list's own filters>`).

    `export_columns` are (header, function of the row) pairs; `export_rows` may turn the filtered
    queryset into other rows (a ledger transaction's entries)."""

    change_list_template = "admin/billy_change_list_export.html"
    export_columns: list[tuple[str, Callable[[Any], Any]]] = []
    export_name = "export"

    def get_urls(self):
        opts = self.model._meta
        view = self.admin_site.admin_view(self.export_view)
        return [path("export.csv", view, name=f"{opts.app_label}_{opts.model_name}_export"), *super().get_urls()]

    def export_rows(self, queryset) -> Iterable[Any]:
        return queryset.iterator(chunk_size=CHUNK_SIZE)

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        opts = self.model._meta
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            # What the list page itself does with filters it does not know.
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + "?e=1")
        response = StreamingHttpResponse(self._lines(changelist.queryset), content_type="text/csv; charset=utf-8")
        stamp = clock.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="{self.export_name}-{stamp}.csv"'
        return response

    def _lines(self, queryset) -> Iterator[str]:
        writer = csv.writer(_Lines())
        yield writer.writerow([header for header, _ in self.export_columns])
        for row in self.export_rows(queryset):
            yield writer.writerow([safe_cell(value(row)) for _, value in self.export_columns])

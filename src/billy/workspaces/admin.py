from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from billy.core import clock

from . import operations
from .models import ApiKey, Workspace


class WorkspaceForm(forms.ModelForm):
    """The provider's secret key is write-only: never sent to the browser, kept when left empty."""

    yookassa_secret_key = forms.CharField(
        label="YooKassa secret key",
        required=False,
        max_length=128,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = Workspace
        # The Balance notification secret is never shown nor typed here: `billy balance-notify-url
        # <workspace> --rotate` makes a new one and prints the URL to give Balance.
        exclude = ["balance_notification_secret"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = bool(self.instance.pk and self.instance.yookassa_secret_key)
        self.initial["yookassa_secret_key"] = ""  # the stored key never reaches the page
        self.fields["yookassa_secret_key"].help_text = (
            "A secret key is stored; it is never shown. Leave empty to keep it, type a new one to replace it."
            if stored
            else "Not set. Type the shop's secret key to set it."
        )

    def clean_yookassa_secret_key(self):
        typed = self.cleaned_data["yookassa_secret_key"]
        # The field never holds the stored key, so empty means "keep it".
        return typed or (self.instance.yookassa_secret_key if self.instance.pk else "")


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    form = WorkspaceForm
    list_display = ["name", "title", "balance_service_id", "balance_configuration", "currency", "time_zone", "shop"]
    search_fields = ["name", "title"]
    readonly_fields = ["created_at"]

    @admin.display(description="card payments", boolean=True)
    def shop(self, obj: Workspace) -> bool:
        return bool(obj.yookassa_shop_id)

    def save_model(self, request, obj, form, change):
        operations.save_workspace(workspace=obj, now=clock.now())

    def has_delete_permission(self, request, obj=None):
        return False  # clients and keys refer to it


class ApiKeyCreateForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "role", "workspaces"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "role", "granted", "created_at", "revoked_at"]
    list_filter = ["role", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("workspaces")

    @admin.display(description="workspaces")
    def granted(self, obj: ApiKey) -> str:
        return ", ".join(w.name for w in obj.workspaces.all())

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["name", "prefix", "role", "workspaces", "created_at", "revoked_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "role", "workspaces"]
        return ["name", "prefix", "role", "workspaces", "created_at", "revoked_at"]

    def save_model(self, request, obj, form, change):
        if change:
            return
        issued = operations.create_api_key(
            name=form.cleaned_data["name"],
            role=form.cleaned_data["role"],
            workspace_names=[w.name for w in form.cleaned_data["workspaces"]],
            now=clock.now(),
        )
        # The admin keeps using `obj` (log entry, response): make it the created key.
        for field in ("id", "prefix", "key_hash", "role", "created_at"):
            setattr(obj, field, getattr(issued.api_key, field))
        obj._state.adding, obj._state.db = False, issued.api_key._state.db
        request._billy_issued_secret = issued.secret

    def save_related(self, request, form, formsets, change):
        """Grants are written by create_api_key."""

    def response_add(self, request, obj, post_url_continue=None):
        # The key is shown once, on this page, and never stored.
        return TemplateResponse(
            request,
            "admin/workspaces/apikey/issued.html",
            {
                **self.admin_site.each_context(request),
                "api_key": obj,
                "secret": request._billy_issued_secret,
                "opts": self.model._meta,
                "title": "API key created",
            },
        )

    def has_change_permission(self, request, obj=None):
        return False  # a key is created, then only revoked (the action): its page has no Save button

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request, queryset):
        now = clock.now()
        for key_id in queryset.values_list("pk", flat=True):
            operations.revoke_api_key(api_key_id=key_id, now=now)
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)

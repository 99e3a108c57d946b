import secrets

from django.core.validators import RegexValidator
from django.db import models

WORKSPACE_NAME_VALIDATOR = RegexValidator(
    r"^[a-z][a-z0-9_]{0,31}$", "Lowercase letters, digits and underscores, starting with a letter."
)


def new_notification_secret() -> str:
    """A secret for the workspace's Balance notification URL (32 random bytes, URL-safe)."""
    return secrets.token_urlsafe(32)


class Workspace(models.Model):
    name = models.CharField(max_length=32, unique=True, validators=[WORKSPACE_NAME_VALIDATOR])
    title = models.CharField(max_length=128, blank=True)
    balance_service_id = models.PositiveIntegerField(help_text="The workspace's service id in Balance.")
    balance_integration = models.CharField(
        max_length=64, help_text="Balance partner integration code the clients are linked through."
    )
    balance_configuration = models.CharField(
        max_length=64, help_text="Balance configuration code every client of the workspace is linked to."
    )
    time_zone = models.CharField(max_length=64, default="Europe/Moscow")
    currency = models.CharField(max_length=3, default="RUB")
    # The workspace's own shop at the card payment provider (YooKassa API v3); blank: no card payments.
    yookassa_api_url = models.URLField(blank=True, help_text="e.g. https://api.yookassa.ru/v3")
    yookassa_shop_id = models.CharField(max_length=64, blank=True)
    yookassa_secret_key = models.CharField(max_length=128, blank=True)
    # The path segment that authenticates Balance's payment notifications to this workspace (Balance's
    # call carries no header billy controls): give Balance the URL `billy balance-notify-url` prints.
    balance_notification_secret = models.CharField(max_length=64, default=new_notification_secret)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "workspace"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="workspace_currency_iso"),
        ]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    class Role(models.TextChoices):
        SERVICE = "SERVICE", "service"
        OPERATOR = "OPERATOR", "operator"

    name = models.CharField(max_length=128, help_text="Who holds the key, for people reading the admin.")
    prefix = models.CharField(max_length=16, help_text="The key's first characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key, hex.")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.SERVICE)
    workspaces = models.ManyToManyField(Workspace, related_name="api_keys", db_table="api_key_workspace")
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "api_key"
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

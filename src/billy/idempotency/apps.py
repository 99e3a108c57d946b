from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "billy.idempotency"
    label = "idempotency"

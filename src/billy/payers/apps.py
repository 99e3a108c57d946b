from django.apps import AppConfig


class PayersConfig(AppConfig):
    name = "billy.payers"
    label = "payers"

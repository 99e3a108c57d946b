from django.apps import AppConfig


class MoneyinConfig(AppConfig):
    name = "billy.moneyin"
    label = "moneyin"

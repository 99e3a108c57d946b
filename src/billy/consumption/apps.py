from django.apps import AppConfig


class ConsumptionConfig(AppConfig):
    name = "billy.consumption"
    label = "consumption"

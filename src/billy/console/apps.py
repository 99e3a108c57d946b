from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "billy.console"
    label = "console"
    verbose_name = "operator console"

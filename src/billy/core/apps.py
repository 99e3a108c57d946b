from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "billy.core"
    label = "core"
    verbose_name = "billy core"

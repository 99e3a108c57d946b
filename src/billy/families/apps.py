from django.apps import AppConfig


class FamiliesConfig(AppConfig):
    name = "billy.families"
    label = "families"
    verbose_name = "Family accounts"

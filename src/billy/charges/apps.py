from django.apps import AppConfig


class ChargesConfig(AppConfig):
    name = "billy.charges"
    label = "charges"

from django.apps import AppConfig


class RelayConfig(AppConfig):
    name = "billy.relay"
    label = "relay"

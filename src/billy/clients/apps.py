from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "billy.clients"
    label = "clients"

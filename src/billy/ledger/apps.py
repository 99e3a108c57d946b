from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "billy.ledger"
    label = "ledger"

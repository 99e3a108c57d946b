from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "billy.subscriptions"
    label = "subscriptions"

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "billy.webhooks"
    label = "webhooks"

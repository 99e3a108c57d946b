from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "billy.events"
    label = "events"

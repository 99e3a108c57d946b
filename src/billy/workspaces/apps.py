from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "billy.workspaces"
    label = "workspaces"

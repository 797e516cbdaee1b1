from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = "Providers and models"

    def ready(self):
        from . import crypto  # noqa: F401  (connects the setting_changed receiver)
        from .list_cache import connect_signals
        from .requesters.registry import get_registry

        get_registry()  # a broken requester manifest stops start-up here, naming the file
        connect_signals()

"""The admin is the primary human interface: its index opens on what an operator wants to see first."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.db.models import Count, Q


def dashboard() -> dict:
    """Counts per domain and the latest plugin tasks: a handful of aggregate queries, whatever the table sizes."""
    from apikeys.models import APIKey
    from plugins.models import Plugin, PluginTask
    from providers.models import EmbeddingModel, LLMModel, Provider, RerankModel

    keys = APIKey.objects.aggregate(total=Count("pk"), active=Count("pk", filter=Q(status=APIKey.Status.ACTIVE)))
    tasks = PluginTask.objects.aggregate(active=Count("pk", filter=Q(status__in=["queued", "running"])))
    return {
        "counts": [
            ("Providers", Provider.objects.count(), "admin:providers_provider_changelist"),
            ("LLM models", LLMModel.objects.count(), "admin:providers_llmmodel_changelist"),
            ("Embedding models", EmbeddingModel.objects.count(), "admin:providers_embeddingmodel_changelist"),
            ("Rerank models", RerankModel.objects.count(), "admin:providers_rerankmodel_changelist"),
            ("Plugins", Plugin.objects.count(), "admin:plugins_plugin_changelist"),
            ("Active API keys", keys["active"], "admin:apikeys_apikey_changelist"),
            ("Tasks in progress", tasks["active"], "admin:plugins_plugintask_changelist"),
        ],
        "recent_tasks": list(PluginTask.objects.order_by("-id")[:8]),
    }


class LangBotAdminSite(admin.AdminSite):
    site_header = "LangBot admin"
    site_title = "LangBot admin"
    index_title = "Management"

    def index(self, request, extra_context=None):
        return super().index(request, {**dashboard(), **(extra_context or {})})


class LangBotAdminConfig(AdminConfig):
    default_site = "langbot_site.admin_site.LangBotAdminSite"

import uuid

from django.db import models

from . import crypto


class Provider(models.Model):
    """An upstream endpoint (a requester, its base URL) and the keys to call it. Keys are encrypted at rest."""

    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    requester = models.CharField(max_length=64, db_index=True)
    base_url = models.CharField(max_length=2048)
    # Overrides the requester's default `timeout` (seconds) when set.
    timeout = models.PositiveIntegerField(null=True, blank=True)
    encrypted_api_keys = models.TextField(blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "uuid"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def api_keys(self) -> list[str]:
        return crypto.decrypt_keys(self.encrypted_api_keys)

    @api_keys.setter
    def api_keys(self, keys: list[str]) -> None:
        self.encrypted_api_keys = crypto.encrypt_keys(keys) if keys else ""

    @property
    def masked_api_keys(self) -> list[str]:
        return [crypto.mask_key(k) for k in self.api_keys]


class ProviderModel(models.Model):
    """What every model has: a name the upstream knows, the provider that serves it, and request tweaks."""

    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    context_length = models.PositiveIntegerField(null=True, blank=True)
    extra_args = models.JSONField(default=dict, blank=True, help_text="Extra fields sent with every request")
    prefered_ranking = models.IntegerField(default=0)  # LangBot's spelling
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["-prefered_ranking", "created_at", "uuid"]

    def __str__(self) -> str:
        return self.name


class LLMModel(ProviderModel):
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="llm_models")
    abilities = models.JSONField(default=list, blank=True)

    class Meta(ProviderModel.Meta):
        verbose_name = "LLM model"
        indexes = [models.Index(fields=["name"])]


class EmbeddingModel(ProviderModel):
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="embedding_models")

    class Meta(ProviderModel.Meta):
        verbose_name = "embedding model"
        indexes = [models.Index(fields=["name"])]


class RerankModel(ProviderModel):
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="rerank_models")

    class Meta(ProviderModel.Meta):
        verbose_name = "rerank model"
        indexes = [models.Index(fields=["name"])]


class ModelKind:
    """One of the three kinds of model: its URL segment, table, and the requester support type it needs."""

    def __init__(self, key: str, model: type[ProviderModel], support_type: str, label: str):
        self.key, self.model, self.support_type, self.label = key, model, support_type, label

    @property
    def related_name(self) -> str:
        return f"{self.key}_models"


MODEL_KINDS = {
    "llm": ModelKind("llm", LLMModel, "llm", "LLM"),
    "embedding": ModelKind("embedding", EmbeddingModel, "text-embedding", "embedding"),
    "rerank": ModelKind("rerank", RerankModel, "rerank", "rerank"),
}


class ModelListVersion(models.Model):
    """A counter per kind of model, bumped in the same transaction as any change to that kind's models
    (providers/list_cache.py): web processes compare it to decide whether their cached model list is current."""

    kind = models.CharField(max_length=16, primary_key=True)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.kind} models, version {self.version}"

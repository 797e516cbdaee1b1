"""Input validation and the object shapes of the contract (provider `p`, model `m`)."""

import json

from rest_framework import serializers

from langbot_site.api import StrictFieldsMixin

from ..models import Provider
from ..services import ABILITIES, MAX_API_KEYS, MAX_KEY_LENGTH

MAX_EXTRA_ARGS_BYTES = 64 * 1024
COUNT_FIELDS = ("llm_count", "embedding_count", "rerank_count")


# --- output --------------------------------------------------------------------------------------------------------


class ProviderSerializer(serializers.ModelSerializer):
    """`p`. Keys are masked unless the serializer context says the caller may see secrets (`reveal_secrets`)."""

    api_keys = serializers.SerializerMethodField()
    llm_count = serializers.IntegerField(read_only=True)
    embedding_count = serializers.IntegerField(read_only=True)
    rerank_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Provider
        fields = ["uuid", "name", "requester", "base_url", "api_keys", "timeout", "created_at", "updated_at", *COUNT_FIELDS]

    def get_api_keys(self, provider) -> list[str]:
        return provider.api_keys if self.context.get("reveal_secrets") else provider.masked_api_keys

    def to_representation(self, provider):
        if not hasattr(provider, "llm_count"):  # counts are there when the queryset annotated them
            self.fields.pop("llm_count", None)
            self.fields.pop("embedding_count", None)
            self.fields.pop("rerank_count", None)
        return super().to_representation(provider)


def provider_data(provider, reveal: bool) -> dict:
    return ProviderSerializer(provider, context={"reveal_secrets": reveal}).data


def model_data(model, *, provider: dict | None = None) -> dict:
    """`m`: uuid, name, provider_uuid, abilities (LLM only), context_length, extra_args, prefered_ranking, times."""
    data = {"uuid": str(model.pk), "name": model.name, "provider_uuid": str(model.provider_id)}
    if hasattr(model, "abilities"):
        data["abilities"] = list(model.abilities or [])
    data.update(
        context_length=model.context_length,
        extra_args=model.extra_args,
        prefered_ranking=model.prefered_ranking,
        created_at=serializers.DateTimeField().to_representation(model.created_at),
        updated_at=serializers.DateTimeField().to_representation(model.updated_at),
    )
    if provider is not None:
        data["provider"] = provider
    return data


# --- input ---------------------------------------------------------------------------------------------------------


class TextField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of turning them into text: a wrong type is a 400."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class _ReadOnlyEcho(serializers.Serializer):
    """Fields a client may send back unchanged from an object it received; they are ignored."""

    uuid = serializers.CharField(read_only=True)
    created_at = serializers.CharField(read_only=True)
    updated_at = serializers.CharField(read_only=True)


def _api_keys_field():
    return serializers.ListField(
        child=TextField(max_length=MAX_KEY_LENGTH, allow_blank=True, trim_whitespace=True),
        max_length=MAX_API_KEYS,
        required=False,
        allow_null=True,
    )


class ProviderInputSerializer(StrictFieldsMixin, _ReadOnlyEcho):
    name = TextField(max_length=255)
    requester = TextField(max_length=64)
    base_url = TextField(max_length=2048, required=False, allow_blank=True, allow_null=True)
    api_keys = _api_keys_field()
    timeout = serializers.IntegerField(min_value=1, max_value=3600, required=False, allow_null=True)
    llm_count = serializers.IntegerField(read_only=True)
    embedding_count = serializers.IntegerField(read_only=True)
    rerank_count = serializers.IntegerField(read_only=True)


class ProviderConnectionSerializer(StrictFieldsMixin, _ReadOnlyEcho):
    """The provider carried by an unsaved-model test: what is needed to reach the upstream."""

    name = TextField(max_length=255, required=False, allow_blank=True)
    requester = TextField(max_length=64)
    base_url = TextField(max_length=2048, required=False, allow_blank=True, allow_null=True)
    api_keys = _api_keys_field()
    timeout = serializers.IntegerField(min_value=1, max_value=3600, required=False, allow_null=True)
    uuid = serializers.UUIDField(required=False, allow_null=True)  # lets masked keys resolve to the stored ones
    llm_count = serializers.IntegerField(read_only=True)
    embedding_count = serializers.IntegerField(read_only=True)
    rerank_count = serializers.IntegerField(read_only=True)


class ModelInputSerializer(StrictFieldsMixin, _ReadOnlyEcho):
    name = TextField(max_length=255)
    provider_uuid = serializers.UUIDField()
    abilities = serializers.ListField(child=serializers.ChoiceField(choices=ABILITIES), max_length=16, required=False)
    context_length = serializers.IntegerField(min_value=1, max_value=100_000_000, required=False, allow_null=True)
    extra_args = serializers.JSONField(required=False, allow_null=True)
    prefered_ranking = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000, required=False)
    provider = serializers.JSONField(read_only=True)  # the embedded provider of a model detail, sent back as received

    def __init__(self, *args, with_abilities: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.with_abilities = with_abilities

    def validate_abilities(self, value):
        if value and not self.with_abilities:
            raise serializers.ValidationError("abilities apply to LLM models only")
        return value

    def validate_extra_args(self, value):
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise serializers.ValidationError("must be a JSON object")
        if len(json.dumps(value)) > MAX_EXTRA_ARGS_BYTES:
            raise serializers.ValidationError(f"must be at most {MAX_EXTRA_ARGS_BYTES} bytes of JSON")
        return value


class UnsavedModelTestSerializer(ModelInputSerializer):
    """`POST …/_/test`: a model and its provider, neither saved (or a saved provider named by `provider_uuid`)."""

    provider_uuid = serializers.UUIDField(required=False, allow_null=True)
    provider = ProviderConnectionSerializer(required=False)

    def validate(self, attrs):
        if not attrs.get("provider") and not attrs.get("provider_uuid"):
            raise serializers.ValidationError({"provider": ["provide the provider (requester, base_url, api_keys)"]})
        return attrs

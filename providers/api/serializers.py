"""Input validation and the object shapes of the contract (provider `p`, model `m`)."""

import json
from datetime import UTC

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from langbot_site.api import StrictFieldsMixin

from ..models import Provider
from ..requesters.registry import PROVIDER_CATEGORIES, SUPPORT_TYPES, get_registry
from ..services import ABILITIES, MAX_API_KEYS, MAX_KEY_LENGTH

MAX_EXTRA_ARGS_BYTES = 64 * 1024
COUNT_FIELDS = ("llm_count", "embedding_count", "rerank_count")


# --- output --------------------------------------------------------------------------------------------------------


class ProviderSerializer(serializers.ModelSerializer):
    """`p`, with its model counts. Keys are masked unless the context says the caller may see secrets
    (`reveal_secrets`). Expects a provider from `selectors.providers_with_counts()`."""

    api_keys = serializers.SerializerMethodField()
    # Declared, not derived from the model: the derived bounds depend on the database backend, and the committed
    # OpenAPI file must be the same whichever database generated it.
    timeout = serializers.IntegerField(min_value=1, max_value=3600, allow_null=True, read_only=True)
    llm_count = serializers.IntegerField(read_only=True)
    embedding_count = serializers.IntegerField(read_only=True)
    rerank_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Provider
        fields = ["uuid", "name", "requester", "base_url", "api_keys", "timeout", "created_at", "updated_at", *COUNT_FIELDS]

    def get_api_keys(self, provider) -> list[str]:
        return provider.api_keys if self.context.get("reveal_secrets") else provider.masked_api_keys


def provider_data(provider, reveal: bool) -> dict:
    return ProviderSerializer(provider, context={"reveal_secrets": reveal}).data


class ProviderModelSerializer(serializers.Serializer):
    """`m` for embedding and rerank models."""

    uuid = serializers.UUIDField(source="pk")
    name = serializers.CharField()
    provider_uuid = serializers.UUIDField(source="provider_id")
    context_length = serializers.IntegerField(allow_null=True)
    extra_args = serializers.DictField()
    prefered_ranking = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class LLMModelSerializer(ProviderModelSerializer):
    """`m` for LLM models: also `abilities`."""

    abilities = serializers.ListField(child=serializers.CharField(), help_text=f"any of {', '.join(ABILITIES)}")


def model_serializer_class(kind_key: str):
    return LLMModelSerializer if kind_key == "llm" else ProviderModelSerializer


def _iso(value) -> str:
    # What DRF's DateTimeField renders (ISO 8601 in UTC, "Z"), without building a Field per value.
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def model_list_data(rows) -> list[dict]:
    """`m` for every row of `selectors.model_rows`: the same output as the serializers, at a fraction of the cost
    (lists are the most requested route; tests/providers/test_queries.py holds the two to the same output)."""
    return [
        {
            "uuid": str(row["uuid"]),
            "name": row["name"],
            "provider_uuid": str(row["provider_id"]),
            "context_length": row["context_length"],
            "extra_args": row["extra_args"],
            "prefered_ranking": row["prefered_ranking"],
            "created_at": _iso(row["created_at"]),
            "updated_at": _iso(row["updated_at"]),
            **({"abilities": row["abilities"]} if "abilities" in row else {}),
        }
        for row in rows
    ]


def model_data(kind_key: str, model, *, provider: dict | None = None) -> dict:
    data = model_serializer_class(kind_key)(model).data
    if provider is not None:
        data["provider"] = provider
    return data


# Response shapes, for the OpenAPI schema (requesters are built by the registry, the rest by the functions above).


class RequesterSpecSerializer(serializers.Serializer):
    config = serializers.ListField(child=serializers.DictField(), help_text="name, type, required, default, label")
    support_type = serializers.ListField(child=serializers.ChoiceField(choices=SUPPORT_TYPES))
    provider_category = serializers.ChoiceField(choices=PROVIDER_CATEGORIES)


class RequesterSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.DictField(child=serializers.CharField(), help_text="en_US, zh_Hans")
    description = serializers.DictField(child=serializers.CharField())
    icon = serializers.CharField(help_text="file name of the icon")
    icon_url = serializers.CharField(help_text="where to fetch the icon (no credentials needed)")
    provider_category = serializers.ChoiceField(choices=PROVIDER_CATEGORIES)
    spec = RequesterSpecSerializer()


class RequesterListSerializer(serializers.Serializer):
    requesters = RequesterSerializer(many=True)


class RequesterDetailSerializer(serializers.Serializer):
    requester = RequesterSerializer()


class ProviderListSerializer(serializers.Serializer):
    providers = ProviderSerializer(many=True)


class ProviderDetailSerializer(serializers.Serializer):
    provider = ProviderSerializer()


class CreatedSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()


class ScannedModelSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField(help_text="guessed from the id: llm, text-embedding or rerank")
    already_added = serializers.BooleanField()


class ScanResultSerializer(serializers.Serializer):
    models = ScannedModelSerializer(many=True)


class LatencySerializer(serializers.Serializer):
    latency_ms = serializers.IntegerField()


def model_response_serializers(kind_key: str) -> tuple:
    """(list, detail) response shapes of one model kind."""
    item = model_serializer_class(kind_key)
    title = {"llm": "LLM", "embedding": "Embedding", "rerank": "Rerank"}[kind_key]
    with_provider = type(f"{title}ModelWithProvider", (item,), {"provider": ProviderSerializer()})
    listing = type(f"{title}ModelList", (serializers.Serializer,), {"models": item(many=True)})
    detail = type(f"{title}ModelDetail", (serializers.Serializer,), {"model": with_provider()})
    return listing, detail


# --- input ---------------------------------------------------------------------------------------------------------


class TextField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of turning them into text: a wrong type is a 400."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "enum": list(get_registry())})
class RequesterNameField(TextField):
    """A requester name; checked against the catalogue by the service (`unknown requester: …`)."""


@extend_schema_field({"type": "string", "format": "uri", "nullable": True,
                      "description": "http(s) URL; empty means the requester's default"})
class BaseURLField(TextField):
    pass


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
    requester = RequesterNameField(max_length=64)
    base_url = BaseURLField(max_length=2048, required=False, allow_blank=True, allow_null=True)
    api_keys = _api_keys_field()
    timeout = serializers.IntegerField(min_value=1, max_value=3600, required=False, allow_null=True)
    llm_count = serializers.IntegerField(read_only=True)
    embedding_count = serializers.IntegerField(read_only=True)
    rerank_count = serializers.IntegerField(read_only=True)


class ProviderConnectionSerializer(StrictFieldsMixin, _ReadOnlyEcho):
    """The provider carried by an unsaved-model test: what is needed to reach the upstream."""

    name = TextField(max_length=255, required=False, allow_blank=True)
    requester = RequesterNameField(max_length=64)
    base_url = BaseURLField(max_length=2048, required=False, allow_blank=True, allow_null=True)
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

"""Reads of providers and models. Lists cost a fixed number of queries however many rows there are."""

import uuid

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from .models import MODEL_KINDS, ModelKind, Provider


def parse_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _count_of(kind: ModelKind):
    # A correlated subquery per kind: three COUNT joins in one GROUP BY would multiply each other's rows.
    counts = (
        kind.model.objects.filter(provider=OuterRef("pk"))
        .order_by()
        .values("provider")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def providers_with_counts() -> QuerySet[Provider]:
    return Provider.objects.annotate(
        llm_count=_count_of(MODEL_KINDS["llm"]),
        embedding_count=_count_of(MODEL_KINDS["embedding"]),
        rerank_count=_count_of(MODEL_KINDS["rerank"]),
    )


def get_provider(provider_uuid) -> Provider | None:
    parsed = parse_uuid(provider_uuid)
    return providers_with_counts().filter(pk=parsed).first() if parsed else None


def list_models(kind: ModelKind, provider_uuid: uuid.UUID | None = None) -> QuerySet:
    models = kind.model.objects.all()
    if provider_uuid is not None:
        models = models.filter(provider_id=provider_uuid)
    return models


MODEL_COLUMNS = ("uuid", "name", "provider_id", "context_length", "extra_args", "prefered_ranking", "created_at", "updated_at")


def model_rows(kind: ModelKind, provider_uuid: uuid.UUID | None = None) -> QuerySet:
    """The list routes' rows as plain dicts: no model instances to build, the hot read path stays cheap."""
    columns = (*MODEL_COLUMNS, "abilities") if kind.key == "llm" else MODEL_COLUMNS
    return list_models(kind, provider_uuid).values(*columns)


def get_model(kind: ModelKind, model_uuid):
    parsed = parse_uuid(model_uuid)
    return kind.model.objects.select_related("provider").filter(pk=parsed).first() if parsed else None


def models_using(provider: Provider) -> dict[str, list[str]]:
    """Names of the models of each kind that use `provider` (kinds without any are left out)."""
    using = {}
    for kind in MODEL_KINDS.values():
        names = list(kind.model.objects.filter(provider=provider).order_by("name").values_list("name", flat=True))
        if names:
            using[kind.key] = names
    return using


def model_names(provider: Provider, kind: ModelKind) -> set[str]:
    return set(kind.model.objects.filter(provider=provider).values_list("name", flat=True))

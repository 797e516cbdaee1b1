"""Thin views over services/selectors for /api/v1/provider/{requesters,providers,models/<kind>}."""

import hashlib
from contextlib import contextmanager

from django.http import Http404, HttpResponse
from django.utils.http import quote_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.views import PublicAPIView
from apikeys.scopes import PROVIDER_SECRET_MANAGE, has_scope

from .. import selectors, services
from ..list_cache import cached_model_list
from ..models import MODEL_KINDS
from ..requesters.registry import SUPPORT_TYPES, get_requester, list_requesters
from .serializers import (
    CreatedSerializer,
    LatencySerializer,
    ModelInputSerializer,
    ProviderDetailSerializer,
    ProviderInputSerializer,
    ProviderListSerializer,
    RequesterDetailSerializer,
    RequesterListSerializer,
    ScanResultSerializer,
    UnsavedModelTestSerializer,
    model_data,
    model_list_data,
    model_response_serializers,
    provider_data,
)

ICON_MAX_AGE = 24 * 3600
UUID_OR_ANYTHING = r"[^/]+"  # a malformed uuid reaches the view and gets "… not found", not a bare 404
DELETED = OpenApiResponse(description="Deleted (`data` is null)")
UPSTREAM_FAILED = "400 also when the upstream refused or failed: `msg` is its reason"


class UpstreamFailed(exceptions.APIException):
    """The upstream refused or failed a test/scan: a 400 whose message is the upstream's reason."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "upstream_failed"


@contextmanager
def service_errors():
    try:
        yield
    except services.UpstreamError as exc:
        raise UpstreamFailed(str(exc)) from None
    except services.InvalidRequest as exc:
        raise exceptions.ValidationError({"non_field_errors": [str(exc)]}) from None


def _validated(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _reveal(request) -> bool:
    return has_scope(request, PROVIDER_SECRET_MANAGE)


# --- requesters ----------------------------------------------------------------------------------------------------


@extend_schema(tags=["Requesters"])
class RequesterViewSet(viewsets.ViewSet):
    """The catalogue of requesters. API keys are accepted here too (beyond LangBot)."""

    lookup_field = "name"
    lookup_value_regex = r"[^/]+"

    @extend_schema(
        operation_id="provider_requesters_list",
        parameters=[OpenApiParameter("type", str, enum=list(SUPPORT_TYPES), required=False)],
        responses=RequesterListSerializer,
    )
    def list(self, request):
        support_type = request.query_params.get("type") or None
        if support_type is not None and support_type not in SUPPORT_TYPES:
            raise exceptions.ValidationError({"type": [f"must be one of {', '.join(SUPPORT_TYPES)}"]})
        return Response({"requesters": [r.as_dict() for r in list_requesters(support_type)]})

    @extend_schema(responses=RequesterDetailSerializer)
    def retrieve(self, request, name=None):
        requester = get_requester(name)
        if requester is None:
            raise Http404("requester not found")
        return Response({"requester": requester.as_dict()})


@extend_schema(tags=["Requesters"])
class RequesterIconView(PublicAPIView):
    """The requester's icon, public and cacheable (the icons ship with the code and change with it)."""

    @extend_schema(
        operation_id="provider_requesters_icon_retrieve",
        responses={(200, "image/svg+xml"): OpenApiTypes.BINARY, 304: OpenApiResponse(description="Not modified")},
    )
    def get(self, request, name):
        requester = get_requester(name)
        if requester is None:
            raise Http404("requester not found")
        content = requester.icon_path.read_bytes()
        etag = quote_etag(hashlib.sha256(content).hexdigest()[:32])
        if etag in request.headers.get("If-None-Match", ""):
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(content, content_type=requester.icon_content_type)
        response["ETag"] = etag
        response["Cache-Control"] = f"public, max-age={ICON_MAX_AGE}"
        response["X-Content-Type-Options"] = "nosniff"
        if requester.icon_content_type == "image/svg+xml":  # an SVG opened directly must not run scripts
            response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
        return response


# --- providers -----------------------------------------------------------------------------------------------------


@extend_schema(tags=["Providers"])
@extend_schema_view(
    list=extend_schema(responses=ProviderListSerializer),
    create=extend_schema(request=ProviderInputSerializer, responses={200: CreatedSerializer}),
    retrieve=extend_schema(responses=ProviderDetailSerializer),
    update=extend_schema(request=ProviderInputSerializer, responses=ProviderDetailSerializer,
                         description="Fields left out keep their value; masked keys (`sk-***`) keep the stored key."),
    partial_update=extend_schema(request=ProviderInputSerializer, responses=ProviderDetailSerializer),
    destroy=extend_schema(
        parameters=[OpenApiParameter("cascade", bool, description="also delete the provider's models")],
        responses={200: DELETED}, description="Refused with 400 while models use the provider, unless cascade=true.",
    ),
    scan_models=extend_schema(
        parameters=[OpenApiParameter("type", str, enum=["llm", "text-embedding", "embedding", "rerank"])],
        responses=ScanResultSerializer, description=UPSTREAM_FAILED,
    ),
)
class ProviderViewSet(viewsets.ViewSet):
    required_scopes = {"POST": PROVIDER_SECRET_MANAGE, "PUT": PROVIDER_SECRET_MANAGE, "PATCH": PROVIDER_SECRET_MANAGE,
                       "scan_models": PROVIDER_SECRET_MANAGE}
    lookup_field = "uuid"
    lookup_value_regex = UUID_OR_ANYTHING
    serializer_class = ProviderInputSerializer

    def _get(self, provider_uuid):
        provider = selectors.get_provider(provider_uuid)
        if provider is None:
            raise Http404("provider not found")
        return provider

    def list(self, request):
        reveal = _reveal(request)
        return Response({"providers": [provider_data(p, reveal) for p in selectors.providers_with_counts()]})

    def create(self, request):
        data = _validated(ProviderInputSerializer, request.data)
        with service_errors():
            provider = services.create_provider(**data)
        return Response({"uuid": str(provider.pk)})

    def retrieve(self, request, uuid=None):
        return Response({"provider": provider_data(self._get(uuid), _reveal(request))})

    def update(self, request, uuid=None):
        provider = self._get(uuid)
        changes = _validated(ProviderInputSerializer, request.data, partial=True)
        with service_errors():
            services.update_provider(provider, **changes)
        return Response({"provider": provider_data(self._get(uuid), _reveal(request))})

    def partial_update(self, request, uuid=None):
        return self.update(request, uuid)

    def destroy(self, request, uuid=None):
        cascade = request.query_params.get("cascade", "").lower() in ("1", "true", "yes")
        with service_errors():
            services.delete_provider(self._get(uuid), cascade=cascade)
        return Response(None)

    @action(detail=True, methods=["get"], url_path="scan-models")
    def scan_models(self, request, uuid=None):
        provider = self._get(uuid)
        wanted = request.query_params.get("type") or None
        if wanted is not None and wanted not in services.SCAN_TYPES:
            raise exceptions.ValidationError({"type": [f"must be one of {', '.join(SUPPORT_TYPES)}"]})
        with service_errors():
            found = services.scan_models(provider, services.SCAN_TYPES.get(wanted) if wanted else None)
        return Response({"models": found})


# --- models --------------------------------------------------------------------------------------------------------


class _ModelViewSet(viewsets.ViewSet):
    """One of /models/llm, /models/embedding, /models/rerank; `kind_key` picks the table and the support type."""

    kind_key = ""
    required_scopes = {"POST": PROVIDER_SECRET_MANAGE, "PUT": PROVIDER_SECRET_MANAGE, "PATCH": PROVIDER_SECRET_MANAGE,
                       "test": PROVIDER_SECRET_MANAGE, "test_unsaved": PROVIDER_SECRET_MANAGE}
    lookup_field = "uuid"
    lookup_value_regex = UUID_OR_ANYTHING
    serializer_class = ModelInputSerializer

    @property
    def kind(self):
        return MODEL_KINDS[self.kind_key]

    def _input(self, data, partial=False) -> dict:
        return _validated(ModelInputSerializer, data, partial=partial, with_abilities=self.kind_key == "llm")

    def _get(self, model_uuid):
        model = selectors.get_model(self.kind, model_uuid)
        if model is None:
            raise Http404("model not found")
        return model

    def _provider_for(self, provider_uuid):
        provider = selectors.get_provider(provider_uuid)
        if provider is None:
            raise exceptions.ValidationError({"provider_uuid": ["provider not found"]})
        return provider

    def _fields(self, data: dict) -> dict:
        fields = {k: v for k, v in data.items() if k != "provider_uuid"}
        if "provider_uuid" in data:
            fields["provider"] = self._provider_for(data["provider_uuid"])
        return fields

    def list(self, request):
        provider_uuid = request.query_params.get("provider_uuid") or None
        parsed = selectors.parse_uuid(provider_uuid) if provider_uuid else None
        if provider_uuid and parsed is None:
            raise exceptions.ValidationError({"provider_uuid": ["must be a UUID"]})
        models = cached_model_list(self.kind, parsed, lambda: model_list_data(selectors.model_rows(self.kind, parsed)))
        return Response({"models": models})

    def create(self, request):
        fields = self._fields(self._input(request.data))
        with service_errors():
            model = services.create_model(self.kind, **fields)
        return Response({"uuid": str(model.pk)})

    def _detail(self, request, model_uuid) -> dict:
        model = self._get(model_uuid)
        provider = selectors.get_provider(model.provider_id)  # with its model counts, like everywhere else
        return {"model": model_data(self.kind_key, model, provider=provider_data(provider, _reveal(request)))}

    def retrieve(self, request, uuid=None):
        return Response(self._detail(request, uuid))

    def update(self, request, uuid=None):
        model = self._get(uuid)
        fields = self._fields(self._input(request.data, partial=True))
        with service_errors():
            services.update_model(self.kind, model, **fields)
        return Response(self._detail(request, uuid))

    def partial_update(self, request, uuid=None):
        return self.update(request, uuid)

    def destroy(self, request, uuid=None):
        services.delete_model(self.kind, self._get(uuid))
        return Response(None)

    @action(detail=True, methods=["post"])
    def test(self, request, uuid=None):
        model = self._get(uuid)
        with service_errors():
            latency_ms = services.probe_model(self.kind, model)
        return Response({"latency_ms": latency_ms})

    @action(detail=False, methods=["post"], url_path="_/test")
    def test_unsaved(self, request):
        data = _validated(UnsavedModelTestSerializer, request.data, with_abilities=self.kind_key == "llm")
        connection = data.get("provider")
        stored = None
        stored_uuid = (connection or {}).get("uuid") or data.get("provider_uuid")
        if stored_uuid:
            stored = selectors.get_provider(stored_uuid)
            if stored is None and not connection:
                raise exceptions.ValidationError({"provider_uuid": ["provider not found"]})
        with service_errors():
            if connection:
                endpoint = services.endpoint_from(
                    requester=connection["requester"],
                    base_url=connection.get("base_url"),
                    api_keys=connection.get("api_keys"),
                    timeout=connection.get("timeout"),
                    stored=stored,
                )
            else:
                endpoint = services.Endpoint.of(stored)
            latency_ms = services.probe(self.kind, endpoint, data["name"], data.get("extra_args"))
        return Response({"latency_ms": latency_ms})


def _documented(kind_key: str, tag: str):
    """The OpenAPI description of one model kind's viewset."""
    listing, detail = model_response_serializers(kind_key)
    return extend_schema_view(
        list=extend_schema(tags=[tag], responses=listing,
                           parameters=[OpenApiParameter("provider_uuid", OpenApiTypes.UUID, required=False)]),
        create=extend_schema(tags=[tag], request=ModelInputSerializer, responses={200: CreatedSerializer}),
        retrieve=extend_schema(tags=[tag], responses=detail),
        update=extend_schema(tags=[tag], request=ModelInputSerializer, responses=detail,
                             description="Fields left out keep their value."),
        partial_update=extend_schema(tags=[tag], request=ModelInputSerializer, responses=detail),
        destroy=extend_schema(tags=[tag], responses={200: DELETED}),
        test=extend_schema(tags=[tag], request=None, responses=LatencySerializer,
                           description=f"Sends one minimal real request upstream. {UPSTREAM_FAILED}"),
        test_unsaved=extend_schema(tags=[tag], request=UnsavedModelTestSerializer, responses=LatencySerializer,
                                   description=f"Tests a model and provider that are not saved. {UPSTREAM_FAILED}"),
    )


@_documented("llm", "Models - LLM")
class LLMModelViewSet(_ModelViewSet):
    kind_key = "llm"


@_documented("embedding", "Models - Embedding")
class EmbeddingModelViewSet(_ModelViewSet):
    kind_key = "embedding"


@_documented("rerank", "Models - Rerank")
class RerankModelViewSet(_ModelViewSet):
    kind_key = "rerank"

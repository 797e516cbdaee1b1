from django.urls import re_path

from langbot_site.routers import OptionalSlashRouter

from .views import (
    EmbeddingModelViewSet,
    LLMModelViewSet,
    ProviderViewSet,
    RequesterIconView,
    RequesterViewSet,
    RerankModelViewSet,
)

router = OptionalSlashRouter()
router.register("provider/requesters", RequesterViewSet, basename="requester")
router.register("provider/providers", ProviderViewSet, basename="provider")
router.register("provider/models/llm", LLMModelViewSet, basename="llm-model")
router.register("provider/models/embedding", EmbeddingModelViewSet, basename="embedding-model")
router.register("provider/models/rerank", RerankModelViewSet, basename="rerank-model")

urlpatterns = [
    re_path(r"^provider/requesters/(?P<name>[^/]+)/icon/?$", RequesterIconView.as_view(), name="requester-icon"),
    *router.urls,
]

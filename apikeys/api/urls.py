from langbot_site.routers import OptionalSlashRouter

from .views import APIKeyViewSet

router = OptionalSlashRouter()
router.register("apikeys", APIKeyViewSet, basename="apikey")
urlpatterns = router.urls

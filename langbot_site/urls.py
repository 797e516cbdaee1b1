from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts.views import home
from langbot_site.api import api_not_found
from langbot_site.views import healthz

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("apikeys.api.urls")),
    path("", include("providers.api.urls")),
    path("", include("plugins.api.urls")),
]

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/v1/", include(api_v1)),
    re_path(r"^api/", api_not_found),
]

handler400 = "langbot_site.api.bad_request"
handler500 = "langbot_site.api.server_error"

"""The real URLs plus two routes that fail on purpose, to show what a client sees when the server has a bug."""

from django.urls import path

from accounts.api.views import PublicAPIView
from langbot_site.urls import urlpatterns as real_urlpatterns


class BrokenAPIView(PublicAPIView):
    def get(self, request):
        raise RuntimeError("secret-internal-detail")


def broken_plain_view(request):
    raise RuntimeError("secret-internal-detail")


urlpatterns = [
    path("api/v1/test/broken", BrokenAPIView.as_view()),
    path("api/v1/test/broken-plain", broken_plain_view),
    *real_urlpatterns,
]
handler500 = "langbot_site.api.server_error"

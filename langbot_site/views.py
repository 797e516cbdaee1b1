from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from . import health


@never_cache
def healthz(request):
    """No auth: for load balancers and orchestrators. 200 when every dependency answers, else 503."""
    checks = {"database": health.database_ok(), "broker": health.broker_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable", **{k: "ok" if v else "down" for k, v in checks.items()}}
    return JsonResponse(body, status=200 if healthy else 503)

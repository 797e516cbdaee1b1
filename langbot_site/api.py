"""The Service API envelope: every /api/v1 response is {"code", "msg", "data"}, built here and nowhere else.

Views return plain data with HTTP 200; the renderer wraps it. Every failure, including unexpected exceptions, goes
through `envelope_exception_handler`, which picks the status and a human-readable `msg`.
"""

import logging
from collections.abc import Mapping

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.db import OperationalError
from django.http import Http404, JsonResponse, QueryDict
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers, status
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

logger = logging.getLogger("langbot.api")

CLIENT_ERROR = -1
SERVER_ERROR = -2
_COMPACT = {"separators": (",", ":")}  # the same bytes DRF's JSONRenderer produces
NO_CREDENTIALS_MSG = "No valid authentication provided (user token or API key required)"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is larger than the configured limit"
    default_code = "payload_too_large"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A dependency of this server is unavailable"
    default_code = "service_unavailable"


def success(data) -> dict:
    return {"code": 0, "msg": "ok", "data": data}


def failure(msg: str, code: int | str = CLIENT_ERROR, **extra) -> dict:
    return {"code": code, "msg": msg, **extra}


def is_envelope(data) -> bool:
    return isinstance(data, Mapping) and "code" in data and "msg" in data


class EnvelopeJSONRenderer(JSONRenderer):
    """Wraps successful payloads; error payloads already come enveloped from the exception handler."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code < 400 and not is_envelope(data):
            data = success(data)
        return super().render(data, accepted_media_type, renderer_context)


class EnvelopeBrowsableAPIRenderer(BrowsableAPIRenderer):
    """The browsable API shows the same envelope that JSON clients receive."""

    def get_content(self, renderer, data, accepted_media_type, renderer_context):
        response = renderer_context.get("response")
        if response is not None and response.status_code < 400 and not is_envelope(data):
            data = success(data)
        return super().get_content(renderer, data, accepted_media_type, renderer_context)


def first_message(detail) -> str:
    """The first human-readable message in a DRF error structure, prefixed with its field name."""
    if isinstance(detail, Mapping):
        for field, value in detail.items():
            message = first_message(value)
            if field in ("detail", "non_field_errors") or not message:
                return message
            return f"{field}: {message}"
        return ""
    if isinstance(detail, (list, tuple)):
        return first_message(detail[0]) if detail else ""
    return str(detail)


def _translate(exc):
    """Django and database exceptions that have a clear client-facing meaning become DRF exceptions."""
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or "Not found")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, TooManyFieldsSent):
        return PayloadTooLarge("Request has too many fields")
    if isinstance(exc, SuspiciousOperation):
        return exceptions.ParseError(str(exc) or "Invalid request")
    if isinstance(exc, OperationalError):
        logger.error("Database unavailable: %s", exc)
        return ServiceUnavailable("Database unavailable, try again shortly")
    return exc


def envelope_exception_handler(exc, context):
    # Imported here: rest_framework.views loads the renderer classes from this module at import time.
    from rest_framework.views import exception_handler as drf_exception_handler

    exc = _translate(exc)
    if isinstance(exc, exceptions.NotAuthenticated):
        exc.detail = NO_CREDENTIALS_MSG
    response = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.exception("Unhandled error in %s", type(view).__name__ if view else "API", exc_info=exc)
        return Response(failure("Internal server error", SERVER_ERROR), status=status.HTTP_500_INTERNAL_SERVER_ERROR)

    body = failure(first_message(response.data) or "Error", SERVER_ERROR if response.status_code >= 500 else CLIENT_ERROR)
    if isinstance(exc, exceptions.ValidationError):
        body["errors"] = response.data
    response.data = body
    return response


class StrictFieldsMixin:
    """Refuse fields the serializer does not know, so typos are reported instead of silently ignored.

    Read-only fields of the representation are known fields: a client may send back an object it received.
    """

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = set(data) - set(self.fields)
            if isinstance(data, QueryDict):
                # An HTML form post (the browsable API's forms) carries Django's CSRF token: transport, not payload.
                unknown.discard("csrfmiddlewaretoken")
            unknown = sorted(unknown)
            if unknown:
                raise serializers.ValidationError({"non_field_errors": [f"Unknown field(s): {', '.join(unknown)}"]})
        return super().to_internal_value(data)


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """Catch-all for /api/ paths that match no route (also used as 404 for paths under /api/)."""
    return JsonResponse(failure(f"Not found: {request.path}"), status=404, json_dumps_params=_COMPACT)


def server_error(request, *args, **kwargs):
    """handler500: the envelope for API clients, a plain page for people."""
    if request.path.startswith("/api/"):
        return JsonResponse(failure("Internal server error", SERVER_ERROR), status=500, json_dumps_params=_COMPACT)
    from django.views.defaults import server_error as default_server_error

    return default_server_error(request)


def bad_request(request, exception=None, *args, **kwargs):
    """handler400: Django refuses some bodies (e.g. too large) before DRF sees them."""
    if request.path.startswith("/api/"):
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse(failure(PayloadTooLarge.default_detail), status=413, json_dumps_params=_COMPACT)
        return JsonResponse(failure(str(exception) or "Bad request"), status=400, json_dumps_params=_COMPACT)
    from django.views.defaults import bad_request as default_bad_request

    return default_bad_request(request, exception)


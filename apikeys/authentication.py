"""DRF authentication for API keys: `X-API-Key: lbk_…` or `Authorization: Bearer lbk_…`.

Returns None when the request carries no key (so the user-token class can try), raises AuthenticationFailed when it
carries a bad one. One indexed read per request; `last_used_at` is written at most once a minute per key.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from . import selectors, services
from .secrets import KEY_PREFIX

INVALID_KEY_MSG = "Invalid API key"


class APIKeyPrincipal:
    """request.user for a key-authenticated request: the key acts on its own behalf, with its own scopes."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, key):
        self.key = key
        self.pk = self.id = None
        self.owner_id = key.created_by_id

    def __str__(self) -> str:
        return f"API key {self.key.name}"

    def get_username(self) -> str:
        return f"apikey:{self.key.pk}"


def key_from_request(request) -> str | None:
    header_key = request.META.get("HTTP_X_API_KEY")
    if header_key is not None:
        return header_key.strip()
    auth = authentication.get_authorization_header(request).decode("latin-1").split()
    if len(auth) == 2 and auth[0].lower() == "bearer" and auth[1].startswith(KEY_PREFIX):
        return auth[1]
    return None


class APIKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        secret = key_from_request(request)
        if secret is None:
            return None
        key = selectors.key_for_secret(secret)
        if key is None or not key.is_usable:
            raise exceptions.AuthenticationFailed(INVALID_KEY_MSG)
        services.record_key_use(key)
        return APIKeyPrincipal(key), key

    def authenticate_header(self, request):
        # A WWW-Authenticate value makes DRF answer 401 (not 403) when credentials are missing or wrong.
        return 'Bearer realm="api"'


BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key (lbk_…) or a user token from POST /api/v1/user/auth",
}


class APIKeyHeaderScheme(OpenApiAuthenticationExtension):
    """`X-API-Key`. The `Authorization: Bearer lbk_…` style shares the BearerAuth scheme with user tokens
    (documented by accounts.authentication): Swagger's Authorize then offers either header."""

    target_class = "apikeys.authentication.APIKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "An API key: lbk_…"}

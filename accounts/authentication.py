"""`Authorization: Bearer <jwt>` for people. Runs after the API-key class, and leaves `Bearer lbk_…` alone."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from apikeys.authentication import BEARER_SCHEME
from apikeys.secrets import KEY_PREFIX

INVALID_TOKEN_MSG = "Invalid or expired user token"


class UserTokenAuthentication(JWTAuthentication):
    def authenticate(self, request):
        header = self.get_header(request)
        if header is None:
            return None
        raw = self.get_raw_token(header)
        if raw is None or raw.startswith(KEY_PREFIX.encode()):
            return None
        try:
            token = self.get_validated_token(raw)
            user = self.get_user(token)
        except (InvalidToken, TokenError, exceptions.AuthenticationFailed) as exc:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN_MSG) from exc
        return user, token


class UserTokenScheme(OpenApiAuthenticationExtension):
    """A user token travels in the same `Authorization: Bearer` header as a key: one scheme for both."""

    target_class = "accounts.authentication.UserTokenAuthentication"
    name = "BearerAuth"
    priority = 1  # over drf-spectacular's own simplejwt extension, which would add a separate "jwtAuth"

    def get_security_definition(self, auto_schema):
        return BEARER_SCHEME

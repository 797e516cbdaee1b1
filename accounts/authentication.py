"""`Authorization: Bearer <jwt>` for people. Runs after the API-key class, and leaves `Bearer lbk_…` alone."""

from rest_framework import exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

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

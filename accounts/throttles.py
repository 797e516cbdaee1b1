"""Login throttles: per client address and per account name, so neither spraying nor guessing goes far."""

from rest_framework.throttling import SimpleRateThrottle


class LoginIPThrottle(SimpleRateThrottle):
    scope = "login_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginUserThrottle(SimpleRateThrottle):
    scope = "login_user"

    def get_cache_key(self, request, view):
        user = request.data.get("user") if hasattr(request.data, "get") else None
        if not isinstance(user, str) or not user.strip():
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.strip().lower()[:254]}

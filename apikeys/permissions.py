"""Per-route scope checks. A view names the scope each method needs; GET needs resource.view by default."""

from rest_framework.permissions import BasePermission

from .scopes import RESOURCE_MANAGE, RESOURCE_VIEW, credential_scopes

DEFAULT_SCOPE_BY_METHOD = {
    "GET": RESOURCE_VIEW,
    "HEAD": RESOURCE_VIEW,
    "OPTIONS": RESOURCE_VIEW,
    "DELETE": RESOURCE_MANAGE,
    "POST": RESOURCE_MANAGE,
    "PUT": RESOURCE_MANAGE,
    "PATCH": RESOURCE_MANAGE,
}


def required_scope(request, view) -> str:
    """`view.required_scope` (one scope for every method), else `view.required_scopes[action or method]`,
    else the default for the method (GET: resource.view, anything else: resource.manage)."""
    if getattr(view, "required_scope", None):
        return view.required_scope
    overrides = getattr(view, "required_scopes", None) or {}
    action = getattr(view, "action", None)
    if action and action in overrides:
        return overrides[action]
    return overrides.get(request.method) or DEFAULT_SCOPE_BY_METHOD.get(request.method, RESOURCE_MANAGE)


class HasRouteScope(BasePermission):
    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False  # DRF turns this into 401 when no credential authenticated
        scope = required_scope(request, view)
        if scope in credential_scopes(request):
            return True
        self.message = f"This credential lacks the scope this route needs: {scope}"
        return False


class IsPerson(BasePermission):
    """Routes about a person's own account (change password, refresh token) need a user, not an API key."""

    message = "This route needs a user token, not an API key"

    def has_permission(self, request, view):
        from .models import APIKey

        if not (request.user and request.user.is_authenticated):
            return False
        return not isinstance(request.auth, APIKey)

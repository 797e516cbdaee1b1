"""LangBot's permission names. A key holds a subset; a person logged in as staff holds them all."""

RESOURCE_VIEW = "resource.view"
RESOURCE_MANAGE = "resource.manage"
PROVIDER_SECRET_MANAGE = "provider_secret.manage"
API_KEY_MANAGE = "api_key.manage"

ALL_SCOPES = (RESOURCE_VIEW, RESOURCE_MANAGE, PROVIDER_SECRET_MANAGE, API_KEY_MANAGE)
SCOPE_CHOICES = [
    (RESOURCE_VIEW, "resource.view: read everything (GET routes)"),
    (RESOURCE_MANAGE, "resource.manage: delete resources, operate plugins"),
    (PROVIDER_SECRET_MANAGE, "provider_secret.manage: create/update/test providers and models, see provider keys"),
    (API_KEY_MANAGE, "api_key.manage: manage API keys"),
]


def normalize_scopes(scopes) -> list[str]:
    """Known scopes only, de-duplicated, in canonical order."""
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown:
        raise ValueError(f"Unknown scope(s): {', '.join(map(str, unknown))}")
    return [s for s in ALL_SCOPES if s in set(scopes)]


def user_scopes(user) -> frozenset[str]:
    if user is None or not user.is_authenticated:
        return frozenset()
    if getattr(user, "is_superuser", False) or getattr(user, "is_staff", False):
        return frozenset(ALL_SCOPES)
    return frozenset({RESOURCE_VIEW})


def credential_scopes(request) -> frozenset[str]:
    """The scopes of whatever authenticated this request: an API key's own, or its person's."""
    from .models import APIKey

    if isinstance(request.auth, APIKey):
        return frozenset(request.auth.scopes)
    return user_scopes(request.user)


def has_scope(request, scope: str) -> bool:
    return scope in credential_scopes(request)

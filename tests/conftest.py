"""Fixtures shared by the whole suite: people, keys, and the three ways a caller can authenticate."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import issue_token
from apikeys import services as key_services
from apikeys.scopes import ALL_SCOPES

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct-horse-battery-42"

# The three credential kinds every Service API route accepts.
CREDENTIAL_KINDS = ("x-api-key", "bearer-key", "bearer-token")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser(username=ADMIN_EMAIL, email=ADMIN_EMAIL, password=ADMIN_PASSWORD)


@pytest.fixture
def viewer_user(db):
    """A person who is not staff: their token carries resource.view only."""
    return get_user_model().objects.create_user(username="viewer@example.com", email="viewer@example.com", password=ADMIN_PASSWORD)


@pytest.fixture
def issue_key(admin_user):
    """issue_key(scopes=None, expires_at=None, name="test") -> the secret of a new key owned by admin_user."""

    def _issue(scopes=None, expires_at=None, name="test"):
        return key_services.create_api_key(name=name, scopes=scopes, expires_at=expires_at, created_by=admin_user).secret

    return _issue


def headers_for(kind: str, credential: str) -> dict:
    """Django test-client kwargs that send `credential` the way `kind` says."""
    if kind == "x-api-key":
        return {"HTTP_X_API_KEY": credential}
    return {"HTTP_AUTHORIZATION": f"Bearer {credential}"}


@pytest.fixture(params=CREDENTIAL_KINDS)
def credential_kind(request):
    return request.param


@pytest.fixture
def auth_headers(credential_kind, issue_key, admin_user, viewer_user):
    """auth_headers(scopes=ALL_SCOPES) -> headers for a caller of `credential_kind` holding those scopes.

    For user tokens only two scope sets exist: everything (an admin) or resource.view alone (a non-staff person).
    """

    def _headers(scopes=ALL_SCOPES):
        if credential_kind == "bearer-token":
            user = admin_user if set(scopes) - {"resource.view"} else viewer_user
            return headers_for(credential_kind, issue_token(user))
        return headers_for(credential_kind, issue_key(scopes=list(scopes)))

    return _headers


@pytest.fixture
def admin_headers(issue_key):
    """X-API-Key headers for a key holding every scope."""
    return headers_for("x-api-key", issue_key())


def past(seconds: int = 60):
    return timezone.now() - timedelta(seconds=seconds)

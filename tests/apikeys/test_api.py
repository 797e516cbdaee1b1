"""/api/v1/apikeys as in the contract: list, create (secret once), detail, update, revoke."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apikeys.models import APIKey
from apikeys.scopes import ALL_SCOPES
from apikeys.secrets import hash_secret
from tests.conftest import headers_for

KEY_FIELDS = {
    "id", "uuid", "name", "description", "scopes", "status", "prefix",
    "expires_at", "last_used_at", "created_at", "updated_at", "secret_available",
}


def create(api_client, headers, **body):
    response = api_client.post("/api/v1/apikeys", body, format="json", **headers)
    assert response.status_code == 200, response.content
    return response.json()["data"]["key"]


def test_every_credential_kind_manages_keys(api_client, auth_headers):
    headers = auth_headers()
    created = create(api_client, headers, name="from any credential")
    assert created["secret_available"] is True
    listed = api_client.get("/api/v1/apikeys", **headers).json()["data"]["keys"]
    assert created["id"] in [k["id"] for k in listed]


def test_scope_is_enforced_for_every_credential_kind(api_client, auth_headers):
    headers = auth_headers(["resource.view"])
    for method, path in [("get", "/api/v1/apikeys"), ("post", "/api/v1/apikeys"), ("get", "/api/v1/apikeys/1"),
                         ("put", "/api/v1/apikeys/1"), ("delete", "/api/v1/apikeys/1")]:
        response = getattr(api_client, method)(path, {}, format="json", **headers)
        assert response.status_code == 403, (method, path)
        assert "api_key.manage" in response.json()["msg"]


def test_create_returns_the_secret_once_and_stores_only_its_hash(api_client, admin_headers):
    created = create(api_client, admin_headers, name="ci", description="for the CI robot")
    secret = created["key"]
    assert secret.startswith("lbk_") and len(secret) == 47
    assert set(created) == KEY_FIELDS | {"key"}
    assert created["prefix"] == secret[:12]
    assert created["status"] == "active" and created["scopes"] == list(ALL_SCOPES)

    row = APIKey.objects.get(pk=created["id"])
    assert row.key_hash == hash_secret(secret) and secret not in row.key_hash

    detail = api_client.get(f"/api/v1/apikeys/{created['id']}", **admin_headers).json()["data"]["key"]
    listed = api_client.get("/api/v1/apikeys", **admin_headers).json()["data"]["keys"]
    for shown in [detail, *listed]:
        assert set(shown) == KEY_FIELDS
        assert shown["secret_available"] is False
        assert secret not in str(shown) and row.key_hash not in str(shown)
    # And the new key works.
    assert api_client.get("/api/v1/apikeys", **headers_for("bearer-key", secret)).status_code == 200


def test_create_with_scopes_and_expiry(api_client, admin_headers):
    expires = (timezone.now() + timedelta(days=30)).isoformat()
    created = create(api_client, admin_headers, name="reader", scopes=["resource.view", "resource.view"], expires_at=expires)
    assert created["scopes"] == ["resource.view"]
    assert created["expires_at"] is not None
    reader = headers_for("x-api-key", created["key"])
    assert api_client.get("/api/v1/apikeys", **reader).status_code == 403
    assert api_client.get("/api/v1/system/info", **reader).status_code == 200


def test_key_cannot_grant_scopes_it_does_not_hold(api_client, issue_key):
    limited = headers_for("x-api-key", issue_key(scopes=["api_key.manage"]))
    response = api_client.post("/api/v1/apikeys", {"name": "escalate", "scopes": ["provider_secret.manage"]}, format="json", **limited)
    assert response.status_code == 403
    assert "provider_secret.manage" in response.json()["msg"]
    # Without explicit scopes a new key inherits exactly the creator's.
    assert create(api_client, limited, name="child")["scopes"] == ["api_key.manage"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({}, "name"),
        ({"name": "late", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ],
)
def test_create_refuses_empty_name_and_past_expiry(api_client, admin_headers, body, field):
    response = api_client.post("/api/v1/apikeys", body, format="json", **admin_headers)
    assert response.status_code == 400
    assert response.json()["msg"].startswith(f"{field}:")


def test_update_changes_name_and_description_only(api_client, admin_headers):
    created = create(api_client, admin_headers, name="old", scopes=["resource.view"])
    response = api_client.put(
        f"/api/v1/apikeys/{created['id']}", {"name": "new", "description": "renamed"}, format="json", **admin_headers
    )
    assert response.status_code == 200
    key = response.json()["data"]["key"]
    assert (key["name"], key["description"], key["scopes"]) == ("new", "renamed", ["resource.view"])
    # Sending back the whole object (as a UI does) is fine; read-only fields are ignored.
    response = api_client.put(f"/api/v1/apikeys/{created['id']}", {**key, "status": "revoked"}, format="json", **admin_headers)
    assert response.status_code == 200 and response.json()["data"]["key"]["status"] == "active"
    assert api_client.put(f"/api/v1/apikeys/{created['id']}", {"name": ""}, format="json", **admin_headers).status_code == 400


def test_delete_revokes_and_keeps_the_row(api_client, admin_headers):
    created = create(api_client, admin_headers, name="temp")
    response = api_client.delete(f"/api/v1/apikeys/{created['id']}", **admin_headers)
    assert response.status_code == 200
    assert response.json()["data"]["key"]["status"] == "revoked"
    row = APIKey.objects.get(pk=created["id"])
    assert row.status == "revoked" and row.revoked_at is not None
    assert api_client.get("/api/v1/apikeys", **headers_for("x-api-key", created["key"])).status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/apikeys/999999", "/api/v1/apikeys/not-a-number"])
def test_unknown_key_is_404(api_client, admin_headers, path):
    for method in ("get", "put", "delete"):
        response = getattr(api_client, method)(path, {"name": "x"}, format="json", **admin_headers)
        assert response.status_code == 404
        assert response.json()["code"] == -1


def test_trailing_slash_is_accepted(api_client, admin_headers):
    assert api_client.get("/api/v1/apikeys/", **admin_headers).json()["code"] == 0

"""Every outcome under /api/v1 is the envelope: {"code":0,"msg":"ok","data":…} or {"code":<non-zero>,"msg":…}."""

import pytest
from django.test import Client

from langbot_site.api import NO_CREDENTIALS_MSG


def assert_failure(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] != 0
    assert isinstance(body["msg"], str) and body["msg"]
    assert "Traceback" not in response.content.decode()
    return body


def test_success_is_wrapped(api_client, db):
    body = api_client.get("/api/v1/system/info").json()
    assert body["code"] == 0 and body["msg"] == "ok"
    assert body["data"]["version"]


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_unknown_path_is_404_envelope(api_client, db, method):
    body = assert_failure(getattr(api_client, method)("/api/v1/no/such/route"), 404)
    assert body["code"] == -1


def test_wrong_method_is_405_envelope(api_client, admin_headers):
    assert_failure(api_client.patch("/api/v1/apikeys", **admin_headers), 405)


def test_malformed_json_is_400_envelope(api_client, admin_headers):
    response = api_client.generic("POST", "/api/v1/apikeys", "{not json", content_type="application/json", **admin_headers)
    assert "JSON parse error" in assert_failure(response, 400)["msg"]


def test_validation_error_names_the_field(api_client, admin_headers):
    response = api_client.post("/api/v1/apikeys", {"name": ""}, format="json", **admin_headers)
    body = assert_failure(response, 400)
    assert body["msg"].startswith("name:")
    assert "name" in body["errors"]


def test_missing_credentials_is_401_envelope(api_client, db):
    body = assert_failure(api_client.get("/api/v1/apikeys"), 401)
    assert body == {"code": -1, "msg": NO_CREDENTIALS_MSG}


def test_missing_scope_is_403_envelope(api_client, issue_key):
    from tests.conftest import headers_for

    response = api_client.get("/api/v1/apikeys", **headers_for("x-api-key", issue_key(scopes=["resource.view"])))
    assert "api_key.manage" in assert_failure(response, 403)["msg"]


def test_oversized_body_is_413_envelope(api_client, admin_headers):
    huge = '{"name": "' + "x" * (3 * 1024 * 1024) + '"}'
    response = api_client.generic("POST", "/api/v1/apikeys", huge, content_type="application/json", **admin_headers)
    assert_failure(response, 413)


def test_throttled_is_429_envelope(api_client, admin_user):
    statuses = [
        api_client.post("/api/v1/user/auth", {"user": "admin@example.com", "password": "wrong"}, format="json").status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [401] * 10
    response = api_client.post("/api/v1/user/auth", {"user": "admin@example.com", "password": "wrong"}, format="json")
    assert_failure(response, 429)


@pytest.mark.urls("tests.urls_faulty")
def test_bug_in_api_view_is_500_envelope_without_details(db, caplog):
    response = Client(raise_request_exception=False).get("/api/v1/test/broken")
    body = assert_failure(response, 500)
    assert body == {"code": -2, "msg": "Internal server error"}
    assert "secret-internal-detail" not in response.content.decode()
    assert "secret-internal-detail" in caplog.text  # logged server-side for the operator


@pytest.mark.urls("tests.urls_faulty")
def test_bug_in_plain_view_is_500_envelope(db):
    response = Client(raise_request_exception=False).get("/api/v1/test/broken-plain")
    assert assert_failure(response, 500)["code"] == -2


@pytest.mark.parametrize(
    "payload",
    [
        [],  # a list where an object is expected
        {"name": ["a list"]},
        {"name": "ok", "scopes": "resource.view"},
        {"name": "ok", "scopes": ["no.such.scope"]},
        {"name": "ok", "expires_at": "next tuesday"},
        {"name": "ok", "expires_at": 12},
        {"name": "x" * (1024 * 1024)},
        {"name": "ok", "description": "d" * (1024 * 1024)},
        {"name": "ok", "unexpected": 1},
    ],
    ids=["list-body", "name-list", "scopes-string", "unknown-scope", "bad-date", "date-int", "1mb-name", "1mb-description", "unknown-field"],
)
def test_bad_bodies_are_400_and_create_nothing(api_client, admin_headers, payload):
    from apikeys.models import APIKey

    before = APIKey.objects.count()
    response = api_client.post("/api/v1/apikeys", payload, format="json", **admin_headers)
    assert_failure(response, 400)
    assert APIKey.objects.count() == before

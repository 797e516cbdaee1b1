"""/api/v1/user/* and /api/v1/system/info, as a LangBot web UI uses them."""

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, headers_for


def login(api_client, user=ADMIN_EMAIL, password=ADMIN_PASSWORD):
    return api_client.post("/api/v1/user/auth", {"user": user, "password": password}, format="json")


def test_first_admin_is_created_once(api_client, db):
    assert api_client.get("/api/v1/user/init").json()["data"] == {"initialized": False}
    response = api_client.post("/api/v1/user/init", {"user": "Owner@Example.com", "password": "a-long-passphrase"}, format="json")
    assert response.status_code == 200 and response.json() == {"code": 0, "msg": "ok", "data": None}
    assert api_client.get("/api/v1/user/init").json()["data"] == {"initialized": True}

    owner = get_user_model().objects.get()
    assert owner.email == "owner@example.com" and owner.is_superuser and owner.is_staff  # can use the Django admin

    again = api_client.post("/api/v1/user/init", {"user": "other@example.com", "password": "a-long-passphrase"}, format="json")
    assert again.status_code == 400 and "already initialized" in again.json()["msg"]
    assert get_user_model().objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [{"user": "not-an-email", "password": "a-long-passphrase"}, {"user": "a@b.co", "password": "short"},
     {"user": "a@b.co"}, {"user": 5, "password": ["x"]}],
)
def test_init_refuses_bad_input(api_client, db, body):
    response = api_client.post("/api/v1/user/init", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == -1
    assert not get_user_model().objects.exists()


def test_login_gives_a_token_that_works_everywhere(api_client, admin_user):
    response = login(api_client, user="ADMIN@example.com ")
    assert response.status_code == 200
    token = response.json()["data"]["token"]
    headers = headers_for("bearer-token", token)
    assert api_client.get("/api/v1/user/info", **headers).json()["data"]["user"] == ADMIN_EMAIL
    assert api_client.get("/api/v1/apikeys", **headers).status_code == 200


def test_wrong_password_is_401(api_client, admin_user):
    response = login(api_client, password="wrong password")
    assert response.status_code == 401 and response.json()["code"] == -1
    assert login(api_client, user="nobody@example.com").status_code == 401


def test_check_token_refreshes_and_needs_a_person(api_client, admin_user, issue_key):
    token = login(api_client).json()["data"]["token"]
    fresh = api_client.get("/api/v1/user/check-token", **headers_for("bearer-token", token)).json()["data"]["token"]
    assert api_client.get("/api/v1/user/info", **headers_for("bearer-token", fresh)).status_code == 200
    key_response = api_client.get("/api/v1/user/check-token", **headers_for("x-api-key", issue_key()))
    assert key_response.status_code == 403
    assert api_client.get("/api/v1/user/check-token").status_code == 401


def test_change_password(api_client, admin_user):
    headers = headers_for("bearer-token", login(api_client).json()["data"]["token"])
    wrong = api_client.post("/api/v1/user/change-password", {"current_password": "nope", "new_password": "another-long-one"}, format="json", **headers)
    assert wrong.status_code == 400
    weak = api_client.post("/api/v1/user/change-password", {"current_password": ADMIN_PASSWORD, "new_password": "123"}, format="json", **headers)
    assert weak.status_code == 400
    ok = api_client.post("/api/v1/user/change-password", {"current_password": ADMIN_PASSWORD, "new_password": "another-long-one"}, format="json", **headers)
    assert ok.status_code == 200
    assert login(api_client).status_code == 401
    assert login(api_client, password="another-long-one").status_code == 200


def test_login_is_throttled_per_account_and_per_client(api_client, admin_user):
    for _ in range(10):
        assert login(api_client, password="guess").status_code == 401
    throttled = login(api_client)  # even the right password waits now
    assert throttled.status_code == 429 and throttled.json()["code"] == -1
    # Another account is not affected by the first account's throttle...
    assert login(api_client, user="someone@example.com", password="x").status_code == 401
    # ...but one client spraying many accounts is stopped too.
    statuses = [login(api_client, user=f"user{i}@example.com", password="x").status_code for i in range(20)]
    assert 429 in statuses


def test_system_info_is_public(api_client, db, settings):
    settings.PLUGIN_MARKETPLACE_URL = "http://127.0.0.1:9/market"
    data = api_client.get("/api/v1/system/info", HTTP_AUTHORIZATION="Bearer stale-token").json()["data"]
    assert data["version"] and data["debug"] is False and data["enable_marketplace"] is True

"""The auth matrix: three credential kinds × valid / invalid / revoked / expired / missing scope, plus the
bookkeeping rules (one indexed read, last_used_at at most once a minute, never fatal) and 16 concurrent clients."""

import threading
from datetime import timedelta

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from accounts.services import issue_token
from apikeys import services
from apikeys.models import APIKey
from apikeys.secrets import hash_secret
from langbot_site.api import NO_CREDENTIALS_MSG
from tests.conftest import headers_for

ROUTE = "/api/v1/apikeys"  # needs api_key.manage


def key_credential(issue_key, state):
    secret = issue_key(scopes=["resource.view"] if state == "missing-scope" else None)
    key = APIKey.objects.get(key_hash=hash_secret(secret))
    if state == "invalid":
        return "lbk_" + "A" * 43
    if state == "revoked":
        services.revoke_api_key(key)
    if state == "expired":
        APIKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    return secret


def token_credential(admin_user, viewer_user, state):
    if state == "invalid":
        return "not-a-jwt.at.all"
    if state == "missing-scope":
        return issue_token(viewer_user)
    if state == "revoked":  # a person whose account was deactivated
        get_user_model().objects.filter(pk=admin_user.pk).update(is_active=False)
        return issue_token(admin_user)
    if state == "expired":
        token = AccessToken.for_user(admin_user)
        token.set_exp(lifetime=-timedelta(seconds=1))
        return str(token)
    return issue_token(admin_user)


EXPECTED = {"valid": 200, "invalid": 401, "revoked": 401, "expired": 401, "missing-scope": 403}


@pytest.mark.parametrize("state", list(EXPECTED))
@pytest.mark.parametrize("kind", ["x-api-key", "bearer-key", "bearer-token"])
def test_auth_matrix(api_client, issue_key, admin_user, viewer_user, kind, state):
    if kind == "bearer-token":
        credential = token_credential(admin_user, viewer_user, state)
    else:
        credential = key_credential(issue_key, state)
    response = api_client.get(ROUTE, **headers_for(kind, credential))
    assert response.status_code == EXPECTED[state], response.content
    body = response.json()
    if state == "valid":
        assert body["code"] == 0 and isinstance(body["data"]["keys"], list)
    else:
        assert body["code"] == -1 and body["msg"]
    if EXPECTED[state] == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")
        if kind != "bearer-token":
            assert body["msg"] == "Invalid API key"


def test_no_credentials_is_401_with_contract_message(api_client, db):
    response = api_client.get(ROUTE)
    assert response.status_code == 401
    assert response.json() == {"code": -1, "msg": NO_CREDENTIALS_MSG}


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_X_API_KEY": ""},
        {"HTTP_X_API_KEY": "not-a-key"},
        {"HTTP_AUTHORIZATION": "Bearer lbk_short"},
        {"HTTP_AUTHORIZATION": "Bearer"},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
    ],
    ids=["empty-x-api-key", "garbage-x-api-key", "short-bearer-key", "bearer-without-value", "basic-auth"],
)
def test_malformed_credentials_are_401(api_client, db, headers):
    response = api_client.get(ROUTE, **headers)
    assert response.status_code == 401
    assert response.json()["code"] == -1


def test_jwt_sent_as_x_api_key_is_refused(api_client, admin_user):
    response = api_client.get(ROUTE, HTTP_X_API_KEY=issue_token(admin_user))
    assert response.status_code == 401 and response.json()["msg"] == "Invalid API key"


@pytest.mark.parametrize("kind", ["x-api-key", "bearer-key"])
def test_revoked_key_is_refused_on_the_very_next_request(api_client, issue_key, admin_headers, kind):
    secret = issue_key(name="soon revoked")
    headers = headers_for(kind, secret)
    assert api_client.get(ROUTE, **headers).status_code == 200
    key_id = APIKey.objects.get(key_hash=hash_secret(secret)).pk
    assert api_client.delete(f"{ROUTE}/{key_id}", **admin_headers).status_code == 200
    response = api_client.get(ROUTE, **headers)
    assert response.status_code == 401
    assert response.json() == {"code": -1, "msg": "Invalid API key"}


def test_key_that_expires_is_refused_from_then_on(api_client, issue_key):
    secret = issue_key(expires_at=timezone.now() + timedelta(hours=1))
    assert api_client.get(ROUTE, **headers_for("x-api-key", secret)).status_code == 200
    APIKey.objects.filter(key_hash=hash_secret(secret)).update(expires_at=timezone.now())
    assert api_client.get(ROUTE, **headers_for("x-api-key", secret)).status_code == 401


def test_authentication_is_one_indexed_read_and_last_used_is_written_once_a_minute(api_client, issue_key):
    secret = issue_key()
    key = APIKey.objects.get(key_hash=hash_secret(secret))
    assert key.last_used_at is None

    with CaptureQueriesContext(connection) as first:
        assert api_client.get(f"{ROUTE}/{key.pk}", **headers_for("x-api-key", secret)).status_code == 200
    key.refresh_from_db()
    first_use = key.last_used_at
    assert first_use is not None
    assert sum('key_hash" =' in q["sql"] for q in first.captured_queries) == 1
    assert sum(q["sql"].startswith("UPDATE") for q in first.captured_queries) == 1

    with CaptureQueriesContext(connection) as second:
        for _ in range(5):
            assert api_client.get(f"{ROUTE}/{key.pk}", **headers_for("bearer-key", secret)).status_code == 200
    assert not any(q["sql"].startswith("UPDATE") for q in second.captured_queries)
    key.refresh_from_db()
    assert key.last_used_at == first_use

    # A minute later the next request records the use again.
    APIKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now() - timedelta(seconds=61))
    api_client.get(f"{ROUTE}/{key.pk}", **headers_for("x-api-key", secret))
    key.refresh_from_db()
    assert key.last_used_at > first_use


@pytest.fixture
def last_used_writes_fail(db):
    """Make the database itself refuse every write of last_used_at, as a locked or read-only database would."""
    table = APIKey._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE TRIGGER refuse_last_used BEFORE UPDATE OF last_used_at ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'bookkeeping refused'); END;"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION refuse_last_used() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'bookkeeping refused'; END; $$ LANGUAGE plpgsql;"
            )
            cursor.execute(
                f"CREATE TRIGGER refuse_last_used BEFORE UPDATE OF last_used_at ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_last_used();"
            )
    yield


def test_failed_bookkeeping_write_never_fails_the_request(api_client, issue_key, last_used_writes_fail, caplog):
    secret = issue_key()
    for kind in ("x-api-key", "bearer-key"):
        response = api_client.get(ROUTE, **headers_for(kind, secret))
        assert response.status_code == 200 and response.json()["code"] == 0
    assert APIKey.objects.get(key_hash=hash_secret(secret)).last_used_at is None
    assert "Could not record use of API key" in caplog.text
    assert secret not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_key_clients_never_get_401(live_server, admin_user):
    """LangBot locks its SQLite database here and answers 401 to every later key request. Each request below uses a
    key never used before, so every one of them also wants to write last_used_at."""
    clients, requests_each = 16, 15
    issued = services.bulk_create_api_keys(count=clients * requests_each, name_prefix="load", created_by=admin_user)
    secrets = [item.secret for item in issued]
    ids = [item.key.pk for item in issued]
    statuses: list[int] = []
    lock = threading.Lock()

    def client(n):
        with httpx.Client(base_url=live_server.url, timeout=60) as http:
            for i in range(requests_each):
                index = n * requests_each + i
                headers = {"X-API-Key": secrets[index]} if i % 2 else {"Authorization": f"Bearer {secrets[index]}"}
                status = http.get(f"{ROUTE}/{ids[index]}", headers=headers).status_code
                with lock:
                    statuses.append(status)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == clients * requests_each
    assert set(statuses) == {200}
    # Keys are still accepted after the burst, and the bookkeeping caught up with (nearly) every first use.
    assert httpx.get(live_server.url + ROUTE, headers={"X-API-Key": secrets[0]}).status_code == 200
    assert APIKey.objects.filter(last_used_at__isnull=False).count() >= clients * requests_each * 0.9

"""The admin: create a key and see its secret once, list/search/filter, revoke; the secret never shows again."""

import re

from apikeys.models import APIKey
from apikeys.secrets import hash_secret


def test_admin_create_shows_the_secret_once(client, admin_user):
    client.force_login(admin_user)
    form = client.get("/admin/apikeys/apikey/add/")
    assert form.status_code == 200 and b"scopes" in form.content

    response = client.post(
        "/admin/apikeys/apikey/add/",
        {"name": "grafana", "description": "dashboards", "scopes": ["resource.view"], "expires_at_0": "", "expires_at_1": ""},
    )
    assert response.status_code == 200
    page = response.content.decode()
    secret = re.search(r'value="(lbk_[A-Za-z0-9_-]{43})"', page).group(1)
    assert "will not be shown again" in page and "copy-secret" in page
    assert "no-store" in response["Cache-Control"]

    key = APIKey.objects.get()
    assert key.key_hash == hash_secret(secret) and key.scopes == ["resource.view"] and key.created_by == admin_user

    for url in ["/admin/apikeys/apikey/", f"/admin/apikeys/apikey/{key.pk}/change/", "/admin/apikeys/apikey/?q=graf",
                "/admin/", "/admin/apikeys/apikey/?status__exact=active&expiry=never"]:
        shown = client.get(url)
        assert shown.status_code == 200, url
        body = shown.content.decode()
        assert secret not in body and key.key_hash not in body, url
    assert key.prefix in client.get("/admin/apikeys/apikey/?q=graf").content.decode()


def test_admin_refuses_a_past_expiry(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/apikeys/apikey/add/", {"name": "old", "expires_at_0": "2001-01-01", "expires_at_1": "00:00:00"}
    )
    assert b"must be in the future" in response.content
    assert not APIKey.objects.exists()


def test_admin_revoke_selected(client, admin_user, issue_key, api_client):
    from tests.conftest import headers_for

    secrets = [issue_key(name=f"k{i}") for i in range(3)]
    client.force_login(admin_user)
    ids = list(APIKey.objects.filter(name__in=["k0", "k1"]).values_list("pk", flat=True))
    response = client.post("/admin/apikeys/apikey/", {"action": "revoke_selected", "_selected_action": ids}, follow=True)
    assert b"Revoked 2 API key(s)" in response.content
    assert sorted(APIKey.objects.filter(status="revoked").values_list("name", flat=True)) == ["k0", "k1"]
    statuses = [api_client.get("/api/v1/apikeys", **headers_for("x-api-key", s)).status_code for s in secrets]
    assert statuses == [401, 401, 200]


def test_admin_can_rename_but_not_change_the_secret(client, admin_user, issue_key):
    secret = issue_key(name="before")
    key = APIKey.objects.get()
    client.force_login(admin_user)
    client.post(f"/admin/apikeys/apikey/{key.pk}/change/", {"name": "after", "description": "x"})
    key.refresh_from_db()
    assert key.name == "after" and key.key_hash == hash_secret(secret)

"""On first start, http://localhost:5300/ asks for the first admin, then sends people to the admin."""

from django.contrib.auth import get_user_model


def test_first_start_creates_the_admin_and_leads_to_the_admin(client, db):
    page = client.get("/")
    assert page.status_code == 200
    assert b"Create administrator" in page.content and b"LangBot admin" in page.content

    mismatch = client.post("/", {"user": "me@example.com", "password": "a-long-passphrase", "password_again": "other"})
    assert b"The two passwords differ" in mismatch.content
    assert not get_user_model().objects.exists()

    done = client.post("/", {"user": "me@example.com", "password": "a-long-passphrase", "password_again": "a-long-passphrase"})
    assert done.status_code == 302 and done["Location"] == "/admin/"
    assert client.login(username="me@example.com", password="a-long-passphrase")
    assert client.get("/admin/").status_code == 200


def test_once_initialised_home_redirects_to_admin(client, admin_user):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    client.post("/", {"user": "x@example.com", "password": "a-long-passphrase", "password_again": "a-long-passphrase"})
    assert get_user_model().objects.count() == 1

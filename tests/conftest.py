"""Fixtures shared by the whole suite: people, keys, and the three ways a caller can authenticate."""

import asyncio
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import issue_token
from apikeys import services as key_services
from apikeys.scopes import ALL_SCOPES

# A real Celery worker process (with the plugin home and queue it shares with this process), for any test folder.
from tests.worker import (  # noqa: F401
    plugin_home,
    private_queue,
    session_worker,
    wheelhouse,
    worker,
    worker_factory,
)

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


@pytest.fixture(autouse=True)
def _fresh_model_list_cache():
    """The per-process model-list cache is stamped with (version row, row count); a flushed test database restarts
    both, so a list cached by an earlier test could match a later test's stamp. Each test starts without it."""
    from providers import list_cache

    getattr(list_cache, "_entries", {}).clear()
    yield


@pytest.fixture(scope="session", autouse=True)
def _no_sessions_left_on_the_test_database(django_db_setup, django_db_blocker):
    """PostgreSQL refuses to drop a database someone is still connected to, leaving test_* databases behind. Before
    pytest-django drops it, name any session still open (so the leak can be found) and end it."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, application_name, state, left(query, 200) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        for pid, application, state, query in cursor.fetchall():
            print(f"\nclosing a database session left open by the tests: pid={pid} app={application!r} {state}: {query}")
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


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


# ---------------------------------------------------------------------------------------------------------------
# A real Chromium (Debian's package, driven by Playwright's sync API) for every browser test in the suite: one
# browser for the session, a fresh context (cookies, storage) per test. Tests using it are marked
# @pytest.mark.browser and are skipped, saying why, where Chromium is not installed; CI installs it.

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "browser"


class _BrowserSession:
    """Playwright's sync API runs its event loop in a greenlet of this thread and, after every call, marks that loop
    as this thread's running loop. Django refuses ORM calls while a loop runs, so the mark is set only while a
    browser test runs (with DJANGO_ALLOW_ASYNC_UNSAFE, as the test itself still talks to the database directly),
    and cleared in between, so that other tests never see either."""

    def __init__(self, playwright, browser):
        self.playwright = playwright
        self.browser = browser
        self.loop = browser._impl_obj._loop

    def enter(self):
        asyncio._set_running_loop(self.loop)

    def leave(self):
        asyncio._set_running_loop(None)


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser test skipped: no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser test skipped: playwright is not installed")
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
    except BaseException:
        playwright.stop()
        asyncio._set_running_loop(None)
        raise
    session = _BrowserSession(playwright, browser)
    session.leave()
    yield session
    session.enter()
    try:
        browser.close()
    finally:
        playwright.stop()
        session.leave()


@pytest.fixture
def page(chromium, request):
    """A fresh browser page (own cookies) for one test marked @pytest.mark.browser."""
    if request.node.get_closest_marker("browser") is None:
        pytest.fail("a test that drives the browser must be marked @pytest.mark.browser")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    chromium.enter()
    try:
        context = chromium.browser.new_context(viewport={"width": 1280, "height": 900})
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        browser_page = context.new_page()
        browser_page.set_default_timeout(15_000)
        yield browser_page
        context.close()
    finally:
        chromium.leave()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def screenshot(page, request):
    """screenshot("name") saves test-artifacts/browser/<test>/<nn>-<name>.png (full page) and returns its path."""
    folder = BROWSER_ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)  # exist_ok: another suite run on this machine may race us here
    counter = iter(range(1, 100))

    def _shot(name: str) -> Path:
        path = folder / f"{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot

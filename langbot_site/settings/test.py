"""Settings for the test suite: the same database choice as production (DATABASE_URL or SQLite), fast hashing."""

from .base import *  # noqa: F401,F403
from .base import DATABASES, DATA_DIR

# A real file, not ":memory:", so that live-server tests and worker processes see the same SQLite database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Keep test tasks apart from any `make run` instance sharing the same Redis.
CELERY_TASK_DEFAULT_QUEUE = "langbot-test"

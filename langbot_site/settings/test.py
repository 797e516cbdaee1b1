"""Settings for the test suite: the same database choice as production (DATABASE_URL or SQLite), fast hashing."""

import os

from .base import *  # noqa: F401,F403
from .base import DATA_DIR, DATABASES

# One test database per test process, so that several suites can run at once on one machine.
# SQLite: a real file, not ":memory:", so live-server tests and worker processes see the same database.
_db = DATABASES["default"]
_db["CONN_MAX_AGE"] = 0  # live-server request threads must not keep sessions open past the test database's teardown
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["TEST"] = {"NAME": str(DATA_DIR / f"test-db-{os.getpid()}.sqlite3")}
else:
    _db["TEST"] = {"NAME": f"test_{_db['NAME']}_{os.getpid()}"}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Keep test tasks apart from any `make run` instance sharing the same Redis.
CELERY_TASK_DEFAULT_QUEUE = "langbot-test"

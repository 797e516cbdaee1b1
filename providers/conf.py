"""App-level settings of `providers`, each with a working default so the project settings need not name them."""

import os

from django.conf import settings

# Models answer a test within the requester's `timeout`; this caps it so a web request never waits minutes.
DEFAULT_TEST_TIMEOUT_CAP = 120
# An upstream answer above this size is refused rather than read into memory.
DEFAULT_MAX_UPSTREAM_BYTES = 8 * 1024 * 1024


def secret_keys() -> list[str]:
    """Keys that protect provider `api_keys` at rest: the first encrypts, all decrypt (so rotation is possible).

    From setting PROVIDER_SECRET_KEYS (a list, or a comma-separated string), else the environment variable of the
    same name, else SECRET_KEY alone.
    """
    configured = getattr(settings, "PROVIDER_SECRET_KEYS", None) or os.environ.get("PROVIDER_SECRET_KEYS", "")
    if isinstance(configured, str):
        configured = configured.split(",")
    keys = [str(k).strip() for k in configured if str(k).strip()]
    return keys or [settings.SECRET_KEY]


def test_timeout_cap() -> float:
    return float(getattr(settings, "PROVIDER_TEST_TIMEOUT_CAP", DEFAULT_TEST_TIMEOUT_CAP))


def max_upstream_bytes() -> int:
    return int(getattr(settings, "PROVIDER_MAX_UPSTREAM_BYTES", DEFAULT_MAX_UPSTREAM_BYTES))

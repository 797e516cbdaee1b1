"""Plugin settings with working defaults. Read at call time (not import time) so tests and operators can override them.

Every value comes from `settings.<NAME>` when the project defines it, else from the environment variable of the
same name, else the default below.
"""

import os
from pathlib import Path

from django.conf import settings

MiB = 1024 * 1024


def _setting(name: str, default):
    value = getattr(settings, name, None)
    if value is not None:
        return value
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    return type(default)(raw) if isinstance(default, (int, float)) else raw


def upload_max_bytes() -> int:
    """Uploads (local install, preview, upgrade) above this are refused with 413."""
    return int(_setting("PLUGIN_UPLOAD_MAX_BYTES", 32 * MiB))


def download_max_bytes() -> int:
    """A GitHub or marketplace download above this fails the task."""
    return int(_setting("PLUGIN_DOWNLOAD_MAX_BYTES", 32 * MiB))


def download_timeout() -> float:
    """Seconds of silence (connect or between chunks) before a download is abandoned."""
    return float(_setting("PLUGIN_DOWNLOAD_TIMEOUT", 30.0))


def download_deadline() -> float:
    """Seconds a whole download may take, so a server that trickles bytes cannot hold a worker forever."""
    return float(_setting("PLUGIN_DOWNLOAD_DEADLINE", 600.0))


def pip_timeout() -> float:
    """Seconds a dependency install may take before it is killed and the task fails."""
    return float(_setting("PLUGIN_PIP_TIMEOUT", 600.0))


def heartbeat_timeout() -> float:
    """A running task whose worker has not reported for this long is considered lost (worker killed)."""
    return float(_setting("PLUGIN_TASK_HEARTBEAT_TIMEOUT", 120.0))


def task_list_limit() -> int:
    return int(_setting("PLUGIN_TASK_LIST_LIMIT", 200))


def task_queue() -> str | None:
    """The Celery queue plugin tasks go to; None means the default queue (CELERY_TASK_DEFAULT_QUEUE)."""
    return _setting("PLUGIN_TASK_QUEUE", "") or None


def marketplace_url() -> str:
    return str(getattr(settings, "PLUGIN_MARKETPLACE_URL", "") or "").rstrip("/")


def marketplace_download_url(author: str, name: str, version: str) -> str:
    """LangBot's marketplace scheme: {base}/api/v1/marketplace/plugins/download/{author}/{name}/{version}."""
    return f"{marketplace_url()}/api/v1/marketplace/plugins/download/{author}/{name}/{version}"


def github_asset_hosts() -> list[str]:
    """Hosts a GitHub release asset URL may point at (the API host and where it redirects to)."""
    default = "api.github.com,github.com,objects.githubusercontent.com,release-assets.githubusercontent.com"
    value = _setting("PLUGIN_GITHUB_ASSET_HOSTS", default)
    if isinstance(value, str):
        value = value.split(",")
    return [h.strip().lower() for h in value if h.strip()]


def plugin_home() -> Path:
    """Root of everything plugins write: plugins/, plugin-data/, staging, uploads. DATA_DIR unless PLUGIN_HOME is set.

    Staging lives under the same root as plugins/ so the final move is a rename on one filesystem.
    """
    return Path(_setting("PLUGIN_HOME", "") or settings.DATA_DIR)


def plugins_dir() -> Path:
    return plugin_home() / "plugins"


def plugin_data_dir() -> Path:
    return plugin_home() / "plugin-data"


def staging_dir() -> Path:
    return plugin_home() / "plugin-staging"


def uploads_dir() -> Path:
    """Uploaded packages waiting for the worker, and the package each local plugin was installed from."""
    return plugin_home() / "plugin-uploads"

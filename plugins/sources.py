"""Where packages come from: an uploaded file, a GitHub release asset, or the marketplace.

Request-time helpers validate what the caller sent and resolve the URL to download; the worker then calls
`download()` with that URL, so the worker never depends on request-time settings.
"""

import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from langbot_site import egress

from . import conf

CHUNK = 64 * 1024


class SourceError(Exception):
    """A download or source problem, worded for the person who started the install."""


def check_github_asset_url(owner: str, repo: str, asset_url: str) -> str:
    """The asset must be an http(s) URL on a GitHub host (configurable), so an install cannot fetch arbitrary URLs."""
    parts = urlsplit(asset_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError("asset_url must be an http(s) URL")
    if parts.hostname.lower() not in conf.github_asset_hosts():
        raise SourceError(f"asset_url host {parts.hostname} is not a GitHub release host")
    return asset_url


def marketplace_download_url(author: str, name: str, version: str) -> str:
    if not conf.marketplace_url():
        raise SourceError("The plugin marketplace is not configured on this server (MARKETPLACE_URL)")
    return conf.marketplace_download_url(author, name, version)


def download(
    url: str,
    dest: Path,
    *,
    headers: dict | None = None,
    max_bytes: int | None = None,
    timeout: float | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Stream `url` into `dest`; returns the size. Refuses bodies above max_bytes, even when no length is announced."""
    max_bytes = conf.download_max_bytes() if max_bytes is None else max_bytes
    timeout = conf.download_timeout() if timeout is None else timeout
    received = 0
    deadline = time.monotonic() + conf.download_deadline()

    def check_egress(request):
        # Every hop, redirects included, must stay inside EGRESS_ALLOWED_NETWORKS.
        try:
            egress.check_url(str(request.url))
        except egress.EgressRefused as exc:
            raise SourceError(f"Download refused: {exc}") from exc

    try:
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=True, max_redirects=5,
                          event_hooks={"request": [check_egress]}) as client:
            with client.stream("GET", url, headers=headers or {}) as response:
                if response.status_code != 200:
                    raise SourceError(f"Download failed: {url} answered HTTP {response.status_code}")
                total = _announced_length(response)
                if total is not None and total > max_bytes:
                    raise SourceError(f"Download too large: {total} bytes, the limit is {max_bytes}")
                if on_progress:
                    on_progress(0, total)
                with open(dest, "wb") as out:
                    for chunk in response.iter_bytes(CHUNK):
                        received += len(chunk)
                        if received > max_bytes:
                            raise SourceError(f"Download too large: over {max_bytes} bytes")
                        out.write(chunk)
                        if time.monotonic() > deadline:
                            raise SourceError(f"Download took longer than {conf.download_deadline():g}s: {url}")
                        if on_progress:
                            on_progress(received, total)
    except httpx.TimeoutException as exc:
        raise SourceError(f"Download timed out after {timeout:g}s without data: {url}") from exc
    except httpx.HTTPError as exc:
        raise SourceError(f"Download failed: {url}: {exc}") from exc
    return received


def github_headers() -> dict:
    # The API's asset URL serves the binary (via a redirect) only when asked for octet-stream.
    return {"Accept": "application/octet-stream", "User-Agent": "langbot-management-server"}


def _announced_length(response) -> int | None:
    try:
        value = int(response.headers.get("content-length", ""))
    except ValueError:
        return None
    return value if value >= 0 else None

"""The one place that talks HTTP to upstreams: bounded in time and size, and every failure becomes an UpstreamError
whose message a person can act on ("cannot connect to …", "upstream timed out after 5s", the upstream's own reason)."""

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from langbot_site import egress

from .. import conf
from ..crypto import redact

logger = logging.getLogger("langbot.providers.upstream")

ROTATE_ON_STATUS = frozenset({401, 429})  # this key is refused or exhausted: another key may work
_MAX_MESSAGE = 500


class UpstreamError(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Target:
    """Where and what to call: the provider's endpoint, its time budget, and the model under test."""

    base_url: str
    timeout: float
    model: str = ""
    extra_args: dict = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _truncate(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def error_message(data: Any) -> str:
    """The human part of an upstream's error body: OpenAI/Anthropic `{"error": {"message"}}`, Ollama `{"error": "…"}`,
    and the common `{"message"}` / `{"detail"}` shapes."""
    if isinstance(data, dict):
        for key in ("error", "message", "detail", "msg", "error_msg"):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return value
            if isinstance(value, dict):
                nested = error_message(value)
                if nested:
                    return nested
            if isinstance(value, list) and value:
                nested = error_message(value[0]) if isinstance(value[0], dict) else str(value[0])
                if nested:
                    return nested
    return ""


def _read_capped(response: httpx.Response, deadline: float, timeout: float) -> bytes:
    limit = conf.max_upstream_bytes()
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise UpstreamError(f"upstream answer is larger than {limit} bytes")
        if time.monotonic() > deadline:  # a server that drips bytes must not hold the request forever
            raise UpstreamError(f"upstream timed out after {_seconds(timeout)}")
        chunks.append(chunk)
    return b"".join(chunks)


def request_json(method: str, target: Target, path: str, *, headers: dict | None = None, body: Any = None) -> Any:
    """One HTTP exchange with the upstream; returns its decoded JSON answer or raises UpstreamError."""
    url = target.url(path)
    timeout = target.timeout
    deadline = time.monotonic() + timeout
    try:
        egress.check_url(url)  # EGRESS_ALLOWED_NETWORKS: where an operator lets model tests reach
    except egress.EgressRefused as exc:
        raise UpstreamError(str(exc)) from None
    try:
        # Redirects are not followed: httpx would forward `x-api-key` to whatever host the upstream names.
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False) as client:
            with client.stream(method, url, headers=headers, json=body) as response:
                content = _read_capped(response, deadline, timeout)
    except httpx.TimeoutException:
        raise UpstreamError(f"upstream timed out after {_seconds(timeout)}") from None
    except httpx.ConnectError:
        raise UpstreamError(f"cannot connect to {target.base_url}") from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL):
        raise UpstreamError(f"invalid base URL: {target.base_url}") from None
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
        raise UpstreamError(f"upstream closed the connection ({target.base_url})") from None
    except httpx.HTTPError as exc:
        raise UpstreamError(f"request to {target.base_url} failed: {type(exc).__name__}") from None
    except (UnicodeError, ValueError):  # e.g. a host name that IDNA cannot encode, found only when connecting
        raise UpstreamError(f"invalid base URL: {target.base_url}") from None

    status = response.status_code
    try:
        data = json.loads(content) if content else None
        is_json = content != b""
    except ValueError:
        data, is_json = None, False

    if 300 <= status < 400:
        location = response.headers.get("location", "elsewhere")
        raise UpstreamError(f"upstream redirected (HTTP {status}) to {_truncate(location)}; use that address as base_url", status)
    if status >= 400:
        reason = error_message(data) or response.reason_phrase or "error"
        raise UpstreamError(f"upstream answered HTTP {status}: {_truncate(reason)}", status)
    if not is_json:
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        raise UpstreamError(f"upstream answered non-JSON (HTTP {status}, {kind})")
    if isinstance(data, dict) and data.get("error"):  # some servers report errors with HTTP 200
        raise UpstreamError(f"upstream answered an error: {_truncate(error_message(data))}", status)
    return data


def expect(condition: bool, what: str) -> None:
    """The upstream answered JSON, but not the shape this protocol promises."""
    if not condition:
        raise UpstreamError(f"upstream answer is not {what}")


def with_key_rotation(keys: Iterable[str], attempt: Callable[[str | None], Any]) -> Any:
    """Call `attempt(key)` with the provider's first key; on 401/429 try the next one. No keys: one call, no key.

    Error messages are redacted: an upstream that echoes the refused key must not leak it to the caller or logs.
    """
    keys = [k for k in keys if k] or [None]
    for position, key in enumerate(keys, start=1):
        try:
            return attempt(key)
        except UpstreamError as exc:
            message = redact(str(exc), [k for k in keys if k])
            if exc.status in ROTATE_ON_STATUS and position < len(keys):
                logger.info("Upstream refused key #%d of %d (HTTP %s); trying the next key", position, len(keys), exc.status)
                continue
            if position > 1:
                message = f"{message} (tried {position} keys)"
            raise UpstreamError(message, exc.status) from None
    raise AssertionError("unreachable")

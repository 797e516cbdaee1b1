"""Writes of providers and models, model tests and upstream model scans. Views and admin only call these."""

import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.db import transaction
from django.db.models import ProtectedError

from . import conf, crypto, selectors
from .models import MODEL_KINDS, ModelKind, Provider
from .requesters.registry import PROBES, Requester, get_requester
from .requesters.transport import Target, UpstreamError, with_key_rotation

logger = logging.getLogger("langbot.providers")

ABILITIES = ("vision", "func_call", "reasoning")
MAX_API_KEYS = 64
MAX_KEY_LENGTH = 4096

__all__ = ["InvalidRequest", "ProviderInUse", "UpstreamError"]


class InvalidRequest(ValueError):
    """A create/update that cannot be honoured; the message says why (a 400 for API clients)."""


class ProviderInUse(InvalidRequest):
    pass


# --- validation shared by providers and unsaved-model tests -------------------------------------------------------


def requester_or_error(name) -> Requester:
    requester = get_requester(name)
    if requester is None:
        raise InvalidRequest(f"unknown requester: {name}")
    return requester


def normalize_name(name) -> str:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        raise InvalidRequest("name must not be empty")
    return name


def normalize_base_url(base_url) -> str:
    """An http(s) URL with a host, without trailing slash (adapters append `/chat/completions` etc.)."""
    value = (base_url or "").strip() if isinstance(base_url, str) else ""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
        if parts.hostname:
            httpx.URL(value)  # the client's own parser: refuses what it could not send to
            parts.hostname.encode("idna")  # empty or over-long labels (`a..b`)
    except (ValueError, UnicodeError, httpx.InvalidURL):
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() for c in value)
        or parts.query
        or parts.fragment
    ):
        raise InvalidRequest(f"base_url must be an http(s) URL such as https://api.openai.com/v1, not {value[:200]!r}")
    return value.rstrip("/")


def normalize_api_keys(keys, stored: list[str] = ()) -> list[str]:
    """Stripped, without blanks or duplicates, in order. A masked value (`sk-***`) stands for the stored key it
    masks, so a client can send back what it was shown without losing the key."""
    if keys is None:
        return []
    unused = list(stored)
    result = []
    for value in keys:
        if not isinstance(value, str):
            raise InvalidRequest("api_keys must be a list of strings")
        value = value.strip()
        if not value:
            continue
        if crypto.is_masked(value):
            match = next((k for k in unused if crypto.mask_key(k) == value), None)
            if match is None:
                raise InvalidRequest(f"api_keys: {value!r} is a masked value that matches no stored key")
            unused.remove(match)
            value = match
        if len(value) > MAX_KEY_LENGTH:
            raise InvalidRequest(f"api_keys: a key is longer than {MAX_KEY_LENGTH} characters")
        if value not in result:
            result.append(value)
    if len(result) > MAX_API_KEYS:
        raise InvalidRequest(f"api_keys: at most {MAX_API_KEYS} keys")
    return result


# --- providers -----------------------------------------------------------------------------------------------------


def create_provider(*, name, requester, base_url=None, api_keys=(), timeout=None) -> Provider:
    found = requester_or_error(requester)
    provider = Provider(
        name=normalize_name(name),
        requester=found.name,
        base_url=normalize_base_url(base_url or found.default_base_url),
        timeout=timeout,
    )
    provider.api_keys = normalize_api_keys(api_keys)
    provider.save()
    logger.info("Created provider %s (%s, requester %s)", provider.pk, provider.name, provider.requester)
    return provider


def validate_provider_changes(provider: Provider, changes: dict) -> dict:
    """`changes` (any of name, requester, base_url, api_keys, timeout) checked and normalised against `provider`:
    an empty base_url means the requester's default; masked keys resolve to the stored keys they stand for."""
    clean = {}
    if "name" in changes:
        clean["name"] = normalize_name(changes["name"])
    requester = requester_or_error(changes["requester"] if "requester" in changes else provider.requester)
    if "requester" in changes:
        if not provider._state.adding:
            _check_requester_serves_models(requester, provider)
        clean["requester"] = requester.name
    if "base_url" in changes:
        clean["base_url"] = normalize_base_url(changes["base_url"] or requester.default_base_url)
    if "timeout" in changes:
        clean["timeout"] = changes["timeout"]
    if "api_keys" in changes:
        stored = [] if provider._state.adding else provider.api_keys
        clean["api_keys"] = normalize_api_keys(changes["api_keys"], stored=stored)
    return clean


def update_provider(provider: Provider, **changes) -> Provider:
    """Change any of name, requester, base_url, api_keys, timeout (see `validate_provider_changes`).
    Also saves a provider that is not in the database yet (the admin's add form)."""
    with transaction.atomic():
        clean = validate_provider_changes(provider, changes)
        keys = clean.pop("api_keys", None)
        for field, value in clean.items():
            setattr(provider, field, value)
        if keys is not None:
            provider.api_keys = keys
        if not provider.base_url:
            provider.base_url = requester_or_error(provider.requester).default_base_url
        provider.save()
    logger.info("Saved provider %s (%s)", provider.pk, ", ".join(sorted(changes)) or "nothing")
    return provider


def _check_requester_serves_models(requester: Requester, provider: Provider) -> None:
    for kind_key in selectors.models_using(provider):
        kind = MODEL_KINDS[kind_key]
        if not requester.supports(kind.support_type):
            raise InvalidRequest(
                f"requester {requester.name} does not support {kind.support_type}, "
                f"but this provider has {kind.label} models"
            )


def describe_usage(using: dict[str, list[str]]) -> str:
    parts = []
    for kind_key, names in using.items():
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        parts.append(f"{len(names)} {MODEL_KINDS[kind_key].label} model(s) ({shown})")
    return "; ".join(parts)


def delete_provider(provider: Provider, *, cascade: bool = False) -> None:
    """Refused while models use the provider, unless `cascade`: then its models go with it."""
    with transaction.atomic():
        using = selectors.models_using(provider)
        if using and not cascade:
            raise ProviderInUse(
                f"provider is used by {describe_usage(using)}; delete them first or pass ?cascade=true"
            )
        for kind in MODEL_KINDS.values():
            kind.model.objects.filter(provider=provider).delete()
        provider_id = provider.pk
        try:
            provider.delete()
        except ProtectedError as exc:  # a model was added meanwhile
            raise ProviderInUse("provider is used by a model added meanwhile; try again") from exc
    logger.info("Deleted provider %s%s", provider_id, " with its models" if using else "")


def rotate_secrets() -> int:
    """Re-encrypt every provider's keys with the first key of PROVIDER_SECRET_KEYS. Returns how many rows changed."""
    crypto.forget_cipher()
    count = 0
    with transaction.atomic():
        for provider in Provider.objects.select_for_update().exclude(encrypted_api_keys="").only("pk", "encrypted_api_keys"):
            Provider.objects.filter(pk=provider.pk).update(encrypted_api_keys=crypto.reencrypt(provider.encrypted_api_keys))
            count += 1
    return count


# --- models ----------------------------------------------------------------------------------------------------------


def check_supported(kind: ModelKind, provider: Provider) -> None:
    requester = requester_or_error(provider.requester)
    if not requester.supports(kind.support_type):
        raise InvalidRequest(
            f"requester {requester.name} of provider {provider.name} does not support {kind.support_type} models "
            f"(it supports: {', '.join(requester.support_type)})"
        )


def normalize_abilities(abilities) -> list[str]:
    if not isinstance(abilities, list):
        raise InvalidRequest(f"abilities must be a list of {', '.join(ABILITIES)}")
    unknown = [a for a in abilities if a not in ABILITIES]
    if unknown:
        raise InvalidRequest(f"abilities: unknown ability {unknown[0]!r} (known: {', '.join(ABILITIES)})")
    return list(dict.fromkeys(abilities))


def _apply_model_fields(kind: ModelKind, model, fields: dict) -> None:
    if "name" in fields:
        model.name = normalize_name(fields["name"])
    if "provider" in fields:
        check_supported(kind, fields["provider"])
        model.provider = fields["provider"]
    if "abilities" in fields and hasattr(model, "abilities"):
        model.abilities = normalize_abilities(fields["abilities"] or [])
    if "context_length" in fields:
        model.context_length = fields["context_length"]
    if "extra_args" in fields:
        if not isinstance(fields["extra_args"] or {}, dict):
            raise InvalidRequest("extra_args must be a JSON object")
        model.extra_args = fields["extra_args"] or {}
    if "prefered_ranking" in fields:
        model.prefered_ranking = fields["prefered_ranking"] or 0


def create_model(kind: ModelKind, *, name, provider: Provider, **fields):
    model = kind.model()
    _apply_model_fields(kind, model, {"name": name, "provider": provider, **fields})
    model.save()
    logger.info("Created %s model %s (%s) on provider %s", kind.label, model.pk, model.name, provider.pk)
    return model


def update_model(kind: ModelKind, model, **fields):
    _apply_model_fields(kind, model, fields)
    model.save()
    logger.info("Updated %s model %s (%s)", kind.label, model.pk, ", ".join(sorted(fields)) or "nothing")
    return model


def delete_model(kind: ModelKind, model) -> None:
    model_id = model.pk
    model.delete()
    logger.info("Deleted %s model %s", kind.label, model_id)


# --- talking to upstreams --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """A provider's connection details, saved or not."""

    requester: Requester
    base_url: str
    api_keys: list
    timeout: int | None = None

    @classmethod
    def of(cls, provider: Provider) -> "Endpoint":
        return cls(requester_or_error(provider.requester), provider.base_url, provider.api_keys, provider.timeout)

    def target(self, model: str = "", extra_args: dict | None = None) -> Target:
        timeout = min(self.timeout or self.requester.default_timeout, conf.test_timeout_cap())
        return Target(self.base_url, timeout, model, dict(extra_args or {}))


def endpoint_from(*, requester, base_url=None, api_keys=None, timeout=None, stored: Provider | None = None) -> Endpoint:
    """An unsaved provider's endpoint, validated like a saved one. Masked keys resolve against `stored`, and keys
    left out (None) are the stored provider's: an edit form can test before saving without resending secrets."""
    found = requester_or_error(requester)
    stored_keys = stored.api_keys if stored else []
    keys = stored_keys if api_keys is None else normalize_api_keys(api_keys, stored=stored_keys)
    return Endpoint(found, normalize_base_url(base_url or found.default_base_url), keys, timeout)


def probe(kind: ModelKind, endpoint: Endpoint, model_name: str, extra_args: dict | None = None) -> int:
    """Send one minimal real request for a model of `kind`; returns the latency in milliseconds.

    Raises InvalidRequest when the requester cannot serve the kind, UpstreamError with the upstream's reason.
    """
    if not endpoint.requester.supports(kind.support_type):
        raise InvalidRequest(f"requester {endpoint.requester.name} does not support {kind.support_type} models")
    call = getattr(endpoint.requester.adapter, PROBES[kind.support_type])
    target = endpoint.target(normalize_name(model_name), extra_args)
    logger.info("Testing %s model %s via %s at %s", kind.label, target.model, endpoint.requester.name, target.base_url)
    started = time.monotonic()
    try:
        with_key_rotation(endpoint.api_keys, lambda key: call(target, key))
    except UpstreamError as exc:
        logger.info("Test of %s model %s failed: %s", kind.label, target.model, exc)
        raise
    latency_ms = round((time.monotonic() - started) * 1000)
    logger.info("Test of %s model %s succeeded in %d ms", kind.label, target.model, latency_ms)
    return latency_ms


def probe_model(kind: ModelKind, model) -> int:
    """Test a saved model through its provider (see `probe`)."""
    return probe(kind, Endpoint.of(model.provider), model.name, model.extra_args)


def guess_model_type(model_id: str) -> str:
    lowered = model_id.lower()
    if "rerank" in lowered:
        return "rerank"
    if "embed" in lowered or "bge-" in lowered or "m3e" in lowered:
        return "text-embedding"
    return "llm"


SCAN_TYPES = {"llm": "llm", "text-embedding": "text-embedding", "embedding": "text-embedding", "rerank": "rerank"}


def scan_models(provider: Provider, model_type: str | None = None) -> list[dict]:
    """The upstream's model list, each with a guessed type and whether a model of that name and type exists here."""
    endpoint = Endpoint.of(provider)
    target = endpoint.target()
    logger.info("Scanning models of provider %s at %s", provider.pk, target.base_url)
    listed = with_key_rotation(endpoint.api_keys, lambda key: endpoint.requester.adapter.list_models(target, key))
    existing = {
        kind.support_type: selectors.model_names(provider, kind) for kind in MODEL_KINDS.values()
    }
    found = []
    for entry in listed:
        entry_type = guess_model_type(entry["id"])
        if model_type and entry_type != model_type:
            continue
        found.append({**entry, "type": entry_type, "already_added": entry["id"] in existing[entry_type]})
    return found

"""Writes of API keys: create (one or in bulk), update, revoke, and the throttled last-used bookkeeping."""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from .models import APIKey
from .scopes import ALL_SCOPES, normalize_scopes
from .secrets import display_prefix, generate_secret, hash_secret

logger = logging.getLogger("langbot.apikeys")


class InvalidKeyRequest(ValueError):
    """A request to create or change a key that cannot be honoured; the message says why."""


class ScopeNotHeld(PermissionError):
    pass


@dataclass(frozen=True)
class IssuedKey:
    key: APIKey
    secret: str  # the only moment the plaintext exists


def _validated(name: str, scopes, expires_at: datetime | None, creator_scopes) -> tuple[str, list[str]]:
    name = (name or "").strip()
    if not name:
        raise InvalidKeyRequest("name must not be empty")
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidKeyRequest("expires_at must be in the future")
    held = set(ALL_SCOPES if creator_scopes is None else creator_scopes)
    try:
        wanted = normalize_scopes(held if scopes is None else scopes)
    except ValueError as exc:
        raise InvalidKeyRequest(str(exc)) from exc
    missing = [s for s in wanted if s not in held]
    if missing:
        raise ScopeNotHeld(f"Cannot grant scope(s) you do not hold: {', '.join(missing)}")
    return name, wanted


def _new_key(name, description, scopes, expires_at, created_by_id) -> IssuedKey:
    secret = generate_secret()
    key = APIKey(
        name=name,
        description=description or "",
        scopes=scopes,
        expires_at=expires_at,
        created_by_id=created_by_id,
        prefix=display_prefix(secret),
        key_hash=hash_secret(secret),
    )
    return IssuedKey(key=key, secret=secret)


def create_api_key(
    *, name: str, description: str = "", scopes=None, expires_at=None, created_by=None, creator_scopes=None
) -> IssuedKey:
    """Create one key. `scopes=None` grants everything the creator holds (`creator_scopes`; None = all scopes)."""
    name, scopes = _validated(name, scopes, expires_at, creator_scopes)
    issued = _new_key(name, description, scopes, expires_at, getattr(created_by, "pk", None))
    issued.key.save()
    return issued


def bulk_create_api_keys(
    *, count: int, name_prefix: str, scopes=None, expires_at=None, created_by=None, batch_size: int = 1000
) -> list[IssuedKey]:
    """Create `count` keys named `<prefix>-00001`… in one transaction: all of them or none."""
    if count < 1:
        raise InvalidKeyRequest("count must be at least 1")
    name_prefix, scopes = _validated(name_prefix, scopes, expires_at, None)
    width = max(5, len(str(count)))
    created_by_id = getattr(created_by, "pk", None)
    issued = [
        _new_key(f"{name_prefix}-{i:0{width}d}", "", scopes, expires_at, created_by_id) for i in range(1, count + 1)
    ]
    with transaction.atomic():
        APIKey.objects.bulk_create([item.key for item in issued], batch_size=batch_size)
    if not all(item.key.pk for item in issued):  # backends that do not return ids from bulk_create
        by_hash = dict(APIKey.objects.filter(key_hash__in=[i.key.key_hash for i in issued]).values_list("key_hash", "id"))
        for item in issued:
            item.key.pk = by_hash[item.key.key_hash]
    return issued


def update_api_key(key: APIKey, **changes) -> APIKey:
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
        if not changes["name"]:
            raise InvalidKeyRequest("name must not be empty")
    for field, value in changes.items():
        setattr(key, field, value)
    key.save(update_fields=[*changes, "updated_at"])
    return key


def revoke_api_keys(queryset) -> int:
    """Revoke every active key in `queryset`; the rows stay for audit. Returns how many were revoked."""
    now = timezone.now()
    return queryset.filter(status=APIKey.Status.ACTIVE).update(
        status=APIKey.Status.REVOKED, revoked_at=now, updated_at=now
    )


def revoke_api_key(key: APIKey) -> APIKey:
    revoke_api_keys(APIKey.objects.filter(pk=key.pk))
    key.refresh_from_db()
    return key


def record_key_use(key: APIKey) -> None:
    """Bookkeeping for `last_used_at`: at most one write per key per interval, and never fatal to the request.

    The key was just read from the database, so its `last_used_at` is current: a request inside the interval
    writes nothing. The conditional UPDATE keeps concurrent requests (other threads, processes) from all writing.
    """
    now = timezone.now()
    interval = settings.API_KEY_LAST_USED_INTERVAL
    if key.last_used_at is not None and now - key.last_used_at < interval:
        return
    try:
        with transaction.atomic():  # a savepoint: a failure here must not poison an enclosing transaction
            APIKey.objects.filter(pk=key.pk).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - interval)
            ).update(last_used_at=now)
        key.last_used_at = now
    except DatabaseError as exc:
        logger.warning("Could not record use of API key id=%s: %s", key.pk, exc)

"""Model lists, cached in each web process and checked against the database on every request.

The model list routes are the most requested ones. Reading and converting every row costs far more than two
single-row queries, so each process keeps the last list it built per (kind, provider filter) together with a stamp:
the kind's ModelListVersion (bumped by the signals below, in the same transaction as the write) and the row count
(which also catches writes that bypass signals, such as bulk_create). A request whose stamp matches serves the
cached list; any write anywhere, in any process, changes the stamp. A database restored from a backup can bring
an old stamp back, so an entry is also rebuilt once it is MAX_AGE seconds old.
"""

import time
import uuid

from django.db import connection
from django.db.models import F
from django.db.models.signals import post_delete, post_save

from .models import MODEL_KINDS, ModelKind, ModelListVersion

_MAX_ENTRIES = 512
MAX_AGE = 30.0
_entries: dict[tuple, tuple[tuple, float, list]] = {}  # key -> (stamp, built at, list)


def bump(kind_key: str) -> None:
    if not ModelListVersion.objects.filter(kind=kind_key).update(version=F("version") + 1):
        ModelListVersion.objects.get_or_create(kind=kind_key, defaults={"version": 1})


def _stamp(kind: ModelKind, provider_uuid: uuid.UUID | None) -> tuple:
    # Hand-written on purpose: compiling this through the ORM would cost more than running it. One round trip.
    quote = connection.ops.quote_name
    count_sql, params = f"SELECT COUNT(*) FROM {quote(kind.model._meta.db_table)}", [kind.key]
    if provider_uuid is not None:
        column = kind.model._meta.get_field("provider")
        count_sql += f" WHERE {quote(column.column)} = %s"
        params.append(column.target_field.get_db_prep_value(provider_uuid, connection))
    version_sql = f"SELECT version FROM {quote(ModelListVersion._meta.db_table)} WHERE kind = %s"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({version_sql}), ({count_sql})", params)
        return tuple(cursor.fetchone())


def cached_model_list(kind: ModelKind, provider_uuid: uuid.UUID | None, build) -> list:
    """`build()` when the cached list for this kind and filter is stale, else the cached list (never mutate it)."""
    if connection.in_atomic_block:
        # Inside a transaction the rows and the stamp may never be committed: a list built here must not be shared.
        return build()
    key = (kind.key, provider_uuid)
    stamp = _stamp(kind, provider_uuid)
    now = time.monotonic()
    cached = _entries.get(key)
    if cached is not None and cached[0] == stamp and now - cached[1] < MAX_AGE:
        return cached[2]
    data = build()
    if len(_entries) >= _MAX_ENTRIES:
        _entries.clear()
    _entries[key] = (stamp, now, data)
    return data


def _on_model_change(sender, **kwargs):
    bump(sender._kind_key)


def connect_signals() -> None:
    for kind in MODEL_KINDS.values():
        kind.model._kind_key = kind.key
        post_save.connect(_on_model_change, sender=kind.model, dispatch_uid=f"model-list-{kind.key}-save")
        post_delete.connect(_on_model_change, sender=kind.model, dispatch_uid=f"model-list-{kind.key}-delete")

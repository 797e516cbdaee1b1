"""Create many API keys at once and write their secrets, once, as CSV or JSON."""

import csv
import io
import json
import os
import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apikeys import services

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise CommandError(f"--expires-in must look like 30d, 12h, 90m or 2w (got {text!r})")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class Command(BaseCommand):
    help = "Create N API keys in one transaction and print name, id, prefix and secret once (CSV or JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True, help="How many keys (1 to 100000)")
        parser.add_argument("--name-prefix", required=True, help="Keys are named <prefix>-00001, <prefix>-00002, …")
        parser.add_argument("--scopes", default=None, help="Comma-separated scopes (default: all)")
        parser.add_argument("--expires-in", default=None, help="Lifetime such as 30d, 12h, 2w (default: never)")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--output", default=None, help="File to write (default: stdout); must not exist yet")
        parser.add_argument("--owner", default=None, help="Email of the user the keys are attributed to")

    def handle(self, *args, count, name_prefix, scopes, expires_in, format, output, owner, **options):
        if not 1 <= count <= 100_000:
            raise CommandError("--count must be between 1 and 100000")
        scope_list = [s.strip() for s in scopes.split(",") if s.strip()] if scopes is not None else None
        if scope_list is not None and not scope_list:
            raise CommandError("--scopes is empty")
        expires_at = timezone.now() + parse_duration(expires_in) if expires_in else None
        created_by = None
        if owner:
            created_by = get_user_model().objects.filter(email__iexact=owner).first()
            if created_by is None:
                raise CommandError(f"No user with email {owner}")
        # Open the output before creating anything, so an unwritable path creates no keys.
        try:
            stream = open(output, "x", newline="", encoding="utf-8") if output else None
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror or exc}") from exc
        try:
            issued = services.bulk_create_api_keys(
                count=count, name_prefix=name_prefix, scopes=scope_list, expires_at=expires_at, created_by=created_by
            )
        except (services.InvalidKeyRequest, services.ScopeNotHeld) as exc:
            if stream:
                stream.close()
                os.unlink(output)
            raise CommandError(str(exc)) from exc
        text = render_keys(issued, format)
        if stream:
            with stream:
                stream.write(text)
            self.stderr.write(f"Created {len(issued)} API keys; secrets written to {output}")
        else:
            self.stdout.write(text, ending="")


def render_keys(issued, fmt: str) -> str:
    rows = [
        {
            "name": item.key.name,
            "id": item.key.pk,
            "prefix": item.key.prefix,
            "key": item.secret,
            "scopes": ",".join(item.key.scopes),
            "expires_at": item.key.expires_at.isoformat() if item.key.expires_at else "",
        }
        for item in issued
    ]
    if fmt == "json":
        return json.dumps(rows, indent=1) + "\n"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()

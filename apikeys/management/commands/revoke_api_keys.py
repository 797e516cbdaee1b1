"""Revoke API keys by name prefix or by id. Rows stay for audit."""

from django.core.management.base import BaseCommand, CommandError

from apikeys import services
from apikeys.models import APIKey


class Command(BaseCommand):
    help = "Revoke API keys whose name starts with --name-prefix, or those listed with --ids."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--name-prefix", help="Revoke every active key whose name starts with this")
        group.add_argument("--ids", help="Comma-separated key ids")

    def handle(self, *args, name_prefix=None, ids=None, **options):
        if name_prefix is not None:
            if not name_prefix.strip():
                raise CommandError("--name-prefix must not be empty (it would match every key)")
            queryset = APIKey.objects.filter(name__startswith=name_prefix)
        else:
            try:
                id_list = [int(part) for part in ids.split(",") if part.strip()]
            except ValueError as exc:
                raise CommandError(f"--ids must be comma-separated integers (got {ids!r})") from exc
            if not id_list:
                raise CommandError("--ids is empty")
            missing = set(id_list) - set(APIKey.objects.filter(pk__in=id_list).values_list("pk", flat=True))
            if missing:
                raise CommandError(f"No API key with id(s): {', '.join(map(str, sorted(missing)))}")
            queryset = APIKey.objects.filter(pk__in=id_list)
        count = services.revoke_api_keys(queryset)
        self.stdout.write(f"Revoked {count} API key(s).")

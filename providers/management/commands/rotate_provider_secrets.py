"""Re-encrypt every provider's API keys with the first key of PROVIDER_SECRET_KEYS.

Rotation: put the new key first in PROVIDER_SECRET_KEYS and keep the old one after it, run this command, then drop
the old key from the list.
"""

from django.core.management.base import BaseCommand, CommandError

from providers import services
from providers.crypto import SecretsUnreadable


class Command(BaseCommand):
    help = "Re-encrypt provider API keys with the first key of PROVIDER_SECRET_KEYS (all listed keys can decrypt)."

    def handle(self, *args, **options):
        try:
            count = services.rotate_secrets()
        except SecretsUnreadable as exc:
            raise CommandError(f"{exc.detail} Nothing was changed.") from exc
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted the keys of {count} provider(s)."))

"""The Celery app. Broker settings come from Django settings (CELERY_*): Redis with REDIS_URL, else a folder broker."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "langbot_site.settings.local")

app = Celery("langbot_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

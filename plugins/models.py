from django.db import models
from django.db.models import Q


class Source(models.TextChoices):
    LOCAL = "local", "Uploaded file"
    GITHUB = "github", "GitHub release"
    MARKETPLACE = "marketplace", "Marketplace"


class Plugin(models.Model):
    author = models.CharField(max_length=128)
    name = models.CharField(max_length=128)
    version = models.CharField(max_length=64)
    label = models.JSONField(default=dict, blank=True)
    description = models.JSONField(default=dict, blank=True)
    icon = models.CharField(max_length=512, blank=True, default="")
    repository = models.CharField(max_length=512, blank=True, default="")
    manifest = models.JSONField(default=dict, blank=True)
    components = models.JSONField(default=dict, blank=True)
    component_counts = models.JSONField(default=dict, blank=True)
    config_schema = models.JSONField(default=list, blank=True)
    config = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    # Where it came from (owner/repo/tag/asset_url, marketplace coordinates, file name): what an upgrade reuses.
    install_info = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["author", "name"]
        constraints = [models.UniqueConstraint(fields=["author", "name"], name="plugin_unique_author_name")]

    def __str__(self):
        return f"{self.author}/{self.name} {self.version}"

    @property
    def folder_name(self) -> str:
        return f"{self.author}__{self.name}"


class TaskStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


ACTIVE_STATUSES = (TaskStatus.QUEUED, TaskStatus.RUNNING)


class PluginTask(models.Model):
    """One install/upgrade/delete. The worker writes its progress here; the API and the admin read it."""

    class Operation(models.TextChoices):
        INSTALL_LOCAL = "plugin-install-local"
        INSTALL_GITHUB = "plugin-install-github"
        INSTALL_MARKETPLACE = "plugin-install-marketplace"
        UPGRADE = "plugin-upgrade"
        DELETE = "plugin-delete"

    task_type = models.CharField(max_length=16, default="user")
    kind = models.CharField(max_length=32, default="plugin-operation")
    name = models.CharField(max_length=32, choices=Operation.choices)
    label = models.CharField(max_length=255)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.QUEUED)
    current_action = models.CharField(max_length=64, blank=True, default="queued")
    log = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    exception = models.TextField(blank=True, default="")  # "" = none; the API shows null
    exception_traceback = models.TextField(blank=True, default="")
    # "author/name" once known; at most one queued/running task may hold a given plugin (see the constraint).
    plugin_key = models.CharField(max_length=260, blank=True, default="")
    staging_path = models.CharField(max_length=1024, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]
        constraints = [
            # The per-plugin lock: two operations on one plugin can never be in progress together.
            models.UniqueConstraint(
                fields=["plugin_key"],
                condition=Q(status__in=["queued", "running"]) & ~Q(plugin_key=""),
                name="plugintask_one_active_operation_per_plugin",
            )
        ]

    def __str__(self):
        return f"#{self.pk} {self.label}"

    @property
    def done(self) -> bool:
        return self.status in (TaskStatus.SUCCEEDED, TaskStatus.FAILED)

from rest_framework import serializers

from langbot_site.api import StrictFieldsMixin

NAME_FIELD = {"max_length": 128, "trim_whitespace": True}


class PackageUploadSerializer(StrictFieldsMixin, serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False)


class OptionalPackageUploadSerializer(StrictFieldsMixin, serializers.Serializer):
    file = serializers.FileField(required=False, allow_empty_file=False)


class GithubInstallSerializer(StrictFieldsMixin, serializers.Serializer):
    owner = serializers.CharField(**NAME_FIELD)
    repo = serializers.CharField(**NAME_FIELD)
    release_tag = serializers.CharField(**NAME_FIELD)
    asset_url = serializers.URLField(max_length=2048)


class MarketplaceInstallSerializer(StrictFieldsMixin, serializers.Serializer):
    plugin_author = serializers.RegexField(r"^[A-Za-z0-9._-]+$", **NAME_FIELD)
    plugin_name = serializers.RegexField(r"^[A-Za-z0-9._-]+$", **NAME_FIELD)
    plugin_version = serializers.RegexField(r"^[A-Za-z0-9._+-]+$", max_length=64)


class TaskIdSerializer(serializers.Serializer):
    task_id = serializers.IntegerField()


# Response shapes, for the OpenAPI schema (the data itself is built by plugins.selectors).


class TaskContextSerializer(serializers.Serializer):
    current_action = serializers.CharField()
    log = serializers.CharField(allow_blank=True)
    metadata = serializers.DictField(help_text="plugin_name, install_source, download_total, download_current, "
                                               "deps_total, deps_installed, current_dep")


class TaskRuntimeSerializer(serializers.Serializer):
    done = serializers.BooleanField()
    state = serializers.ChoiceField(choices=["PENDING", "FINISHED", "CANCELLED"])
    exception = serializers.CharField(allow_null=True)
    exception_traceback = serializers.CharField(allow_null=True)
    result = serializers.JSONField(allow_null=True)


class TaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    task_type = serializers.CharField()
    kind = serializers.CharField()
    name = serializers.CharField()
    label = serializers.CharField()
    created_at = serializers.IntegerField(help_text="epoch seconds")
    task_context = TaskContextSerializer()
    runtime = TaskRuntimeSerializer()
    status = serializers.CharField(help_text="queued | running | succeeded | failed")
    progress = serializers.IntegerField(min_value=0, max_value=100)


class TaskListSerializer(serializers.Serializer):
    tasks = TaskSerializer(many=True)
    id_index = serializers.IntegerField(help_text="the highest task id so far")


class PluginSerializer(serializers.Serializer):
    author = serializers.CharField()
    name = serializers.CharField()
    version = serializers.CharField()
    label = serializers.JSONField()
    description = serializers.JSONField()
    icon = serializers.CharField(allow_blank=True)
    repository = serializers.CharField(allow_blank=True)
    enabled = serializers.BooleanField()
    install_source = serializers.ChoiceField(choices=["local", "github", "marketplace"])
    install_info = serializers.JSONField()
    components = serializers.JSONField()
    component_counts = serializers.DictField(child=serializers.IntegerField())
    config_schema = serializers.JSONField()
    manifest = serializers.JSONField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PluginListSerializer(serializers.Serializer):
    plugins = PluginSerializer(many=True)


class PluginResponseSerializer(serializers.Serializer):
    plugin = PluginSerializer()


class PluginConfigSerializer(serializers.Serializer):
    config = serializers.DictField(help_text='secret fields read as "***"; send "***" back to keep them')


class PreviewSerializer(serializers.Serializer):
    filename = serializers.CharField()
    size = serializers.IntegerField()
    manifest = serializers.DictField()
    metadata = serializers.DictField()
    component_types = serializers.ListField(child=serializers.CharField())
    component_counts = serializers.DictField(child=serializers.IntegerField())
    requirements = serializers.ListField(child=serializers.CharField())
    file_count = serializers.IntegerField()

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

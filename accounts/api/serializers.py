from rest_framework import serializers

from langbot_site.api import StrictFieldsMixin


class CredentialsSerializer(StrictFieldsMixin, serializers.Serializer):
    user = serializers.CharField(max_length=254, help_text="Email address")
    password = serializers.CharField(max_length=512, trim_whitespace=False)


class ChangePasswordSerializer(StrictFieldsMixin, serializers.Serializer):
    current_password = serializers.CharField(max_length=512, trim_whitespace=False)
    new_password = serializers.CharField(max_length=512, trim_whitespace=False)

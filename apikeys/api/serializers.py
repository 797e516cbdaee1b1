from django.utils import timezone
from rest_framework import serializers

from langbot_site.api import StrictFieldsMixin

from ..models import APIKey
from ..scopes import ALL_SCOPES


class APIKeySerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """The key object of the contract. Never carries the secret or its hash."""

    name = serializers.CharField(max_length=255, trim_whitespace=True)
    description = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ALL_SCOPES), required=False, max_length=16)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    secret_available = serializers.SerializerMethodField()

    class Meta:
        model = APIKey
        fields = [
            "id", "uuid", "name", "description", "scopes", "status", "prefix",
            "expires_at", "last_used_at", "created_at", "updated_at", "secret_available",
        ]
        read_only_fields = ["id", "uuid", "status", "prefix", "last_used_at", "created_at", "updated_at"]

    def get_secret_available(self, obj) -> bool:
        return False

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("must be in the future")
        return value


class APIKeyUpdateSerializer(APIKeySerializer):
    """PUT changes name and description only; scopes and expiry are fixed at creation."""

    class Meta(APIKeySerializer.Meta):
        read_only_fields = [*APIKeySerializer.Meta.read_only_fields, "scopes", "expires_at"]

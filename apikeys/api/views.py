from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, viewsets
from rest_framework.response import Response

from .. import selectors, services
from ..scopes import API_KEY_MANAGE, credential_scopes
from .serializers import APIKeySerializer, APIKeyUpdateSerializer


def _owner(request):
    """The person a new key is attributed to: the logged-in user, or the owner of the key making the call."""
    if request.user.pk is not None:
        return request.user
    from django.contrib.auth import get_user_model

    owner_id = getattr(request.user, "owner_id", None)
    return get_user_model().objects.filter(pk=owner_id).first() if owner_id else None


class IssuedKeySerializer(APIKeySerializer):
    key = serializers.CharField(help_text="The secret, shown this once")

    class Meta(APIKeySerializer.Meta):
        fields = [*APIKeySerializer.Meta.fields, "key"]


KEY_RESPONSE = inline_serializer("APIKeyResponse", {"key": APIKeySerializer()})


@extend_schema(tags=["API Keys"])
class APIKeyViewSet(viewsets.ViewSet):
    required_scope = API_KEY_MANAGE
    serializer_class = APIKeySerializer
    lookup_value_regex = r"\d+"

    def _get(self, pk):
        key = selectors.get_key(pk)
        if key is None:
            raise Http404("API key not found")
        return key

    @extend_schema(responses=inline_serializer("APIKeyList", {"keys": APIKeySerializer(many=True)}))
    def list(self, request):
        return Response({"keys": APIKeySerializer(selectors.list_keys(), many=True).data})

    @extend_schema(
        request=APIKeySerializer, responses={200: inline_serializer("IssuedKeyResponse", {"key": IssuedKeySerializer()})}
    )
    def create(self, request):
        serializer = APIKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            issued = services.create_api_key(
                name=data["name"],
                description=data.get("description", ""),
                scopes=data.get("scopes"),
                expires_at=data.get("expires_at"),
                created_by=_owner(request),
                creator_scopes=credential_scopes(request),
            )
        except services.ScopeNotHeld as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        except services.InvalidKeyRequest as exc:
            raise exceptions.ValidationError({"non_field_errors": [str(exc)]}) from exc
        body = {**APIKeySerializer(issued.key).data, "key": issued.secret, "secret_available": True}
        return Response({"key": body})

    @extend_schema(responses=KEY_RESPONSE)
    def retrieve(self, request, pk=None):
        return Response({"key": APIKeySerializer(self._get(pk)).data})

    @extend_schema(request=APIKeyUpdateSerializer, responses=KEY_RESPONSE)
    def update(self, request, pk=None, partial=False):
        key = self._get(pk)
        serializer = APIKeyUpdateSerializer(key, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            services.update_api_key(key, **serializer.validated_data)
        except services.InvalidKeyRequest as exc:
            raise exceptions.ValidationError({"non_field_errors": [str(exc)]}) from exc
        return Response({"key": APIKeySerializer(key).data})

    @extend_schema(request=APIKeyUpdateSerializer, responses=KEY_RESPONSE)
    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    @extend_schema(responses={200: KEY_RESPONSE}, description="Revokes the key; the row stays for audit.")
    def destroy(self, request, pk=None):
        key = services.revoke_api_key(self._get(pk))
        return Response({"key": APIKeySerializer(key).data})

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.permissions import IsPerson

from .. import services
from ..throttles import LoginIPThrottle, LoginUserThrottle
from .serializers import ChangePasswordSerializer, CredentialsSerializer


class PublicAPIView(APIView):
    """Routes that need no credential, and ignore a stale one rather than refusing the request."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'  # so a failed login is 401, as for every other credential failure


TOKEN_RESPONSE = inline_serializer("Token", {"token": serializers.CharField()})


@extend_schema(tags=["User"])
class InitView(PublicAPIView):
    serializer_class = CredentialsSerializer

    @extend_schema(responses=inline_serializer("InitStatus", {"initialized": serializers.BooleanField()}))
    def get(self, request):
        return Response({"initialized": services.is_initialized()})

    @extend_schema(responses={200: None})
    def post(self, request):
        serializer = CredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.initialize_first_admin(serializer.validated_data["user"], serializer.validated_data["password"])
        except services.AccountError as exc:
            raise exceptions.ValidationError({"non_field_errors": [str(exc)]}) from exc
        return Response(None)


@extend_schema(tags=["User"])
class AuthView(PublicAPIView):
    serializer_class = CredentialsSerializer
    throttle_classes = (LoginIPThrottle, LoginUserThrottle)

    @extend_schema(responses={200: TOKEN_RESPONSE, 401: OpenApiResponse(description="Wrong user or password")})
    def post(self, request):
        serializer = CredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = services.login(serializer.validated_data["user"], serializer.validated_data["password"])
        if token is None:
            raise exceptions.AuthenticationFailed("Wrong user or password")
        return Response({"token": token})


@extend_schema(tags=["User"])
class CheckTokenView(APIView):
    permission_classes = (IsPerson,)

    @extend_schema(responses=TOKEN_RESPONSE)
    def get(self, request):
        return Response({"token": services.issue_token(request.user)})


@extend_schema(tags=["User"])
class ChangePasswordView(APIView):
    permission_classes = (IsPerson,)
    serializer_class = ChangePasswordSerializer

    @extend_schema(responses={200: None})
    def post(self, request):
        serializer = ChangePasswordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.change_password(request.user, **serializer.validated_data)
        except services.AccountError as exc:
            raise exceptions.ValidationError({"non_field_errors": [str(exc)]}) from exc
        return Response(None)


@extend_schema(tags=["User"])
class UserInfoView(APIView):
    permission_classes = (IsPerson,)

    @extend_schema(
        responses=inline_serializer("UserInfo", {"user": serializers.CharField(), "is_superuser": serializers.BooleanField()})
    )
    def get(self, request):
        user = request.user
        return Response({"user": user.email or user.get_username(), "is_superuser": user.is_superuser})


@extend_schema(tags=["System"])
class SystemInfoView(PublicAPIView):
    @extend_schema(
        responses=inline_serializer(
            "SystemInfo",
            {
                "version": serializers.CharField(),
                "debug": serializers.BooleanField(),
                "enable_marketplace": serializers.BooleanField(),
                "initialized": serializers.BooleanField(),
            },
        )
    )
    def get(self, request):
        return Response(
            {
                "version": settings.VERSION,
                "debug": settings.DEBUG,
                "enable_marketplace": bool(getattr(settings, "PLUGIN_MARKETPLACE_URL", "")),
                "initialized": services.is_initialized(),
            }
        )

"""Thin views over plugins.services (writes) and plugins.selectors (reads)."""

from contextlib import contextmanager

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from langbot_site.api import PayloadTooLarge, ServiceUnavailable

from .. import conf, selectors, services
from ..package import PackageError, inspect_package
from .serializers import (
    GithubInstallSerializer,
    MarketplaceInstallSerializer,
    OptionalPackageUploadSerializer,
    PackageUploadSerializer,
    PluginConfigSerializer,
    PluginListSerializer,
    PluginResponseSerializer,
    PreviewSerializer,
    TaskIdSerializer,
    TaskListSerializer,
    TaskSerializer,
)

MULTIPART_OVERHEAD = 64 * 1024  # boundaries and headers around the file in a multipart body


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Another operation on this plugin is in progress"
    default_code = "conflict"


@contextmanager
def service_errors():
    """Service exceptions -> API errors: bad request 400, busy plugin 409, broker down 503."""
    try:
        yield
    except services.OperationInProgress as exc:
        raise Conflict(str(exc)) from exc
    except services.PluginOperationError as exc:
        raise exceptions.ValidationError({"non_field_errors": [str(exc)]}) from exc
    except services.BrokerUnavailable as exc:
        raise ServiceUnavailable(str(exc)) from exc


def uploaded_package(request, required=True):
    """The multipart `file`, refused with 413 above PLUGIN_UPLOAD_MAX_BYTES (before the body is read when possible)."""
    limit = conf.upload_max_bytes()
    try:
        announced = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        announced = 0
    if announced > limit + MULTIPART_OVERHEAD:
        raise PayloadTooLarge(f"Upload is larger than the limit of {limit} bytes")
    serializer_class = PackageUploadSerializer if required else OptionalPackageUploadSerializer
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    upload = serializer.validated_data.get("file")
    if upload is not None and upload.size > limit:
        raise PayloadTooLarge(f"Upload is larger than the limit of {limit} bytes")
    return upload


def get_plugin_or_404(author, name):
    plugin = selectors.get_plugin(author, name)
    if plugin is None:
        raise Http404("plugin not found")
    return plugin


CONFLICT = OpenApiResponse(
    inline_serializer("ConflictEnvelope", {"code": serializers.IntegerField(), "msg": serializers.CharField()}),
    description="Another operation on this plugin is in progress",
)
TASK_STARTED = {200: TaskIdSerializer, 409: CONFLICT}
UPLOAD = {"multipart/form-data": PackageUploadSerializer}


def task_started(task):
    return Response({"task_id": task.pk})


@extend_schema(tags=["Plugins"])
class PluginListView(APIView):
    @extend_schema(operation_id="plugins_list", responses=PluginListSerializer)
    def get(self, request):
        return Response({"plugins": [selectors.plugin_json(p) for p in selectors.list_plugins()]})


@extend_schema(tags=["Plugins"])
class PluginDetailView(APIView):
    @extend_schema(responses=PluginResponseSerializer)
    def get(self, request, author, name):
        return Response({"plugin": selectors.plugin_json(get_plugin_or_404(author, name))})

    @extend_schema(
        parameters=[OpenApiParameter("delete_data", bool, description="also remove the plugin's data folder")],
        responses=TASK_STARTED,
    )
    def delete(self, request, author, name):
        plugin = get_plugin_or_404(author, name)
        delete_data = str(request.query_params.get("delete_data", "")).lower() in ("1", "true", "yes")
        with service_errors():
            return task_started(services.start_delete(plugin, delete_data))


@extend_schema(tags=["Plugins"])
class InstallLocalView(APIView):
    @extend_schema(request=UPLOAD, responses=TASK_STARTED)
    def post(self, request):
        upload = uploaded_package(request)
        with service_errors():
            return task_started(services.start_install_local(upload, upload.name))


@extend_schema(tags=["Plugins"])
class InstallLocalPreviewView(APIView):
    @extend_schema(request=UPLOAD, responses=PreviewSerializer, description="Checks a package; installs nothing.")
    def post(self, request):
        upload = uploaded_package(request)
        upload.seek(0)
        try:
            package = inspect_package(upload.file)
        except PackageError as exc:
            raise exceptions.ValidationError({"file": [services.package_refusal(exc)]}) from exc
        return Response(package.preview(upload.name, upload.size))


@extend_schema(tags=["Plugins"])
class InstallGithubView(APIView):
    @extend_schema(request=GithubInstallSerializer, responses=TASK_STARTED)
    def post(self, request):
        serializer = GithubInstallSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            return task_started(services.start_install_github(**serializer.validated_data))


@extend_schema(tags=["Plugins"])
class InstallMarketplaceView(APIView):
    @extend_schema(request=MarketplaceInstallSerializer, responses=TASK_STARTED)
    def post(self, request):
        serializer = MarketplaceInstallSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors():
            return task_started(services.start_install_marketplace(
                data["plugin_author"], data["plugin_name"], data["plugin_version"]))


@extend_schema(tags=["Plugins"])
class UpgradeView(APIView):
    @extend_schema(
        request={"multipart/form-data": OptionalPackageUploadSerializer},
        responses=TASK_STARTED,
        description="Re-installs from the uploaded file if given, else from the plugin's own source; keeps its config.",
    )
    def post(self, request, author, name):
        plugin = get_plugin_or_404(author, name)
        upload = uploaded_package(request, required=False)
        with service_errors():
            return task_started(services.start_upgrade(plugin, upload, upload.name if upload else ""))


@extend_schema(tags=["Plugins"])
class PluginConfigView(APIView):
    @extend_schema(responses=PluginConfigSerializer)
    def get(self, request, author, name):
        return Response({"config": services.masked_config(get_plugin_or_404(author, name))})

    @extend_schema(request=OpenApiTypes.OBJECT, responses=PluginConfigSerializer)
    def put(self, request, author, name):
        plugin = get_plugin_or_404(author, name)
        body = request.data.dict() if hasattr(request.data, "dict") else request.data
        # LangBot sends the config itself as the body; {"config": {...}} is accepted too.
        schema_names = {item.get("name") for item in plugin.config_schema or [] if isinstance(item, dict)}
        if isinstance(body, dict) and set(body) == {"config"} and "config" not in schema_names:
            body = body["config"]
        with service_errors():
            plugin = services.update_config(plugin, body)
        return Response({"config": services.masked_config(plugin)})


@extend_schema(tags=["Tasks"])
class TaskListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("type", str, description="task_type, e.g. user"),
                    OpenApiParameter("kind", str, description="e.g. plugin-operation")],
        operation_id="system_tasks_list",
        responses=TaskListSerializer,
    )
    def get(self, request):
        services.fail_stale_tasks()
        tasks = selectors.list_tasks(request.query_params.get("type"), request.query_params.get("kind"))
        return Response({"tasks": [selectors.task_json(t) for t in tasks], "id_index": selectors.last_task_id()})


@extend_schema(tags=["Tasks"])
class TaskDetailView(APIView):
    @extend_schema(parameters=[OpenApiParameter("task_id", int, OpenApiParameter.PATH)], responses=TaskSerializer)
    def get(self, request, task_id):
        services.fail_stale_tasks()
        task = selectors.get_task(task_id)
        if task is None:
            raise Http404("Task not found")
        return Response(selectors.task_json(task))

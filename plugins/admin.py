"""Admin: installed plugins (with an "Install from file" form) and tasks (with a live progress page).

Installs, upgrades and removals go through services, as the API does: the admin never edits plugin files itself.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from . import conf, selectors, services
from .models import Plugin, PluginTask


class PackageUploadForm(forms.Form):
    file = forms.FileField(label="Plugin package (.lbpkg)")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > conf.upload_max_bytes():
            raise forms.ValidationError(f"The file is larger than the limit of {conf.upload_max_bytes()} bytes.")
        return upload


def task_page(task):
    return redirect(reverse("admin:plugins_plugintask_change", args=[task.pk]))


@admin.register(Plugin)
class PluginAdmin(admin.ModelAdmin):
    list_display = ("author", "name", "version", "source", "enabled", "component_summary", "updated_at")
    list_filter = ("source", "enabled")
    search_fields = ("author", "name")
    # The stored config can hold secrets: only the masked form is ever shown.
    fields = ("author", "name", "version", "source", "install_info", "enabled", "label", "description",
              "repository", "component_summary", "masked_config", "created_at", "updated_at")
    readonly_fields = tuple(f for f in fields if f != "enabled")
    actions = ("enable_plugins", "disable_plugins", "uninstall_plugins", "uninstall_plugins_and_data")
    change_list_template = "admin/plugins/plugin/change_list.html"

    def has_add_permission(self, request):
        return False  # plugins arrive through the install form, which starts a task

    def has_delete_permission(self, request, obj=None):
        return False  # removal is a task too (see the uninstall actions), so files and row go together

    def save_model(self, request, obj, form, change):
        # Only `enabled` is editable here; it goes through the service like the enable/disable actions.
        services.set_enabled(obj, obj.enabled)

    @admin.display(description="components")
    def component_summary(self, obj):
        counts = obj.component_counts or {}
        return ", ".join(f"{kind}: {count}" for kind, count in sorted(counts.items())) or "-"

    @admin.display(description="config (secrets masked)")
    def masked_config(self, obj):
        return services.masked_config(obj)

    def get_urls(self):
        return [
            path("install/", self.admin_site.admin_view(self.install_view), name="plugins_plugin_install"),
            *super().get_urls(),
        ]

    def install_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = PackageUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                task = services.start_install_local(upload, upload.name)
            except (services.BrokerUnavailable, services.PluginOperationError) as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, f"Install started: {task.label}")
                return task_page(task)
        context = {
            **self.admin_site.each_context(request),
            "title": "Install plugin from file",
            "form": form,
            "opts": self.model._meta,
            "max_bytes": conf.upload_max_bytes(),
        }
        return TemplateResponse(request, "admin/plugins/plugin/install.html", context)

    @admin.action(description="Enable selected plugins")
    def enable_plugins(self, request, queryset):
        for plugin in queryset:
            services.set_enabled(plugin, True)

    @admin.action(description="Disable selected plugins")
    def disable_plugins(self, request, queryset):
        for plugin in queryset:
            services.set_enabled(plugin, False)

    def _uninstall(self, request, queryset, delete_data):
        for plugin in queryset:
            try:
                task = services.start_delete(plugin, delete_data)
            except (services.BrokerUnavailable, services.PluginOperationError) as exc:
                self.message_user(request, f"{plugin.author}/{plugin.name}: {exc}", messages.ERROR)
            else:
                self.message_user(request, format_html('Started <a href="{}">{}</a>', reverse(
                    "admin:plugins_plugintask_change", args=[task.pk]), task.label))

    @admin.action(description="Uninstall selected plugins (keep their data)")
    def uninstall_plugins(self, request, queryset):
        self._uninstall(request, queryset, delete_data=False)

    @admin.action(description="Uninstall selected plugins and delete their data")
    def uninstall_plugins_and_data(self, request, queryset):
        self._uninstall(request, queryset, delete_data=True)


@admin.register(PluginTask)
class PluginTaskAdmin(admin.ModelAdmin):
    list_display = ("id", "label", "status", "current_action", "progress", "created_at", "finished_at")
    list_filter = ("status", "name")
    search_fields = ("label", "plugin_key")
    fields = ("name", "label", "status", "plugin_key", "created_at", "started_at", "finished_at", "exception",
              "result")
    readonly_fields = fields
    change_form_template = "admin/plugins/plugintask/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # a record of what happened: viewed, never edited

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="progress")
    def progress(self, obj):
        return f"{selectors.task_progress(obj)}%"

    def get_urls(self):
        return [
            path("<int:task_id>/json/", self.admin_site.admin_view(self.task_json_view),
                 name="plugins_plugintask_json"),
            *super().get_urls(),
        ]

    def task_json_view(self, request, task_id):
        """What the progress page polls: the Service API's task object, over the admin session."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        services.fail_stale_tasks()
        task = selectors.get_task(task_id)
        if task is None:
            raise Http404("Task not found")
        return JsonResponse(selectors.task_json(task))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        task = selectors.get_task(object_id)
        extra_context = {**(extra_context or {}), "task_json": selectors.task_json(task) if task else None}
        return super().change_view(request, object_id, form_url, extra_context)

from django.urls import re_path

from . import views

PLUGIN = r"(?P<author>[^/]+)/(?P<name>[^/]+)"

# Install routes come before /<author>/<name> so "install/local" is never read as a plugin.
urlpatterns = [
    re_path(r"^plugins/?$", views.PluginListView.as_view(), name="plugin-list"),
    re_path(r"^plugins/install/local/preview/?$", views.InstallLocalPreviewView.as_view(), name="plugin-preview"),
    re_path(r"^plugins/install/local/?$", views.InstallLocalView.as_view(), name="plugin-install-local"),
    re_path(r"^plugins/install/github/?$", views.InstallGithubView.as_view(), name="plugin-install-github"),
    re_path(r"^plugins/install/marketplace/?$", views.InstallMarketplaceView.as_view(),
            name="plugin-install-marketplace"),
    re_path(rf"^plugins/{PLUGIN}/upgrade/?$", views.UpgradeView.as_view(), name="plugin-upgrade"),
    re_path(rf"^plugins/{PLUGIN}/config/?$", views.PluginConfigView.as_view(), name="plugin-config"),
    re_path(rf"^plugins/{PLUGIN}/?$", views.PluginDetailView.as_view(), name="plugin-detail"),
    re_path(r"^system/tasks/?$", views.TaskListView.as_view(), name="task-list"),
    re_path(r"^system/tasks/(?P<task_id>[^/]+)/?$", views.TaskDetailView.as_view(), name="task-detail"),
]

from django.urls import re_path

from . import views

urlpatterns = [
    re_path(r"^user/init/?$", views.InitView.as_view(), name="user-init"),
    re_path(r"^user/auth/?$", views.AuthView.as_view(), name="user-auth"),
    re_path(r"^user/check-token/?$", views.CheckTokenView.as_view(), name="user-check-token"),
    re_path(r"^user/change-password/?$", views.ChangePasswordView.as_view(), name="user-change-password"),
    re_path(r"^user/info/?$", views.UserInfoView.as_view(), name="user-info"),
    re_path(r"^system/info/?$", views.SystemInfoView.as_view(), name="system-info"),
]

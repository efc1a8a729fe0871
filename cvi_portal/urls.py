from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from districts import views as district_views

from . import health

urlpatterns = [
    path("", district_views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("notifications.urls")),
    path("protocols/", include("protocols.urls_playbooks")),
    path("", include("responses.urls")),
    path("", include("reviews.urls")),
    path("api/", include("cvi_portal.api_urls")),
]

admin.site.site_header = "CVI Portal administration"
admin.site.site_title = "CVI Portal"

from allauth.account import views as allauth_views
from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from districts import views as district_views

from . import health

# Signing in: Django's pages (login, logout, password reset and change), with allauth's
# second-factor and re-authentication pages beside them. allauth's templates name its own
# login, logout and password-change URLs, so those names point at Django's pages too.
account_urls = [
    path("login/", district_views.LoginView.as_view(), name="login"),
    path("login/", district_views.LoginView.as_view(), name="account_login"),
    path("logout/", auth_views.LogoutView.as_view(), name="account_logout"),
    path("password_reset/", district_views.PasswordResetView.as_view(), name="password_reset"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="account_change_password"),
    path("", include("django.contrib.auth.urls")),
    path("reauthenticate/", allauth_views.reauthenticate, name="account_reauthenticate"),
    path("2fa/", include("allauth.mfa.urls")),
    path("security/", district_views.account, name="account"),
    path("security/language/", district_views.account_language, name="account_language"),
    path("security/logout-everywhere/", district_views.logout_everywhere, name="logout_everywhere"),
]

# The admin's own login form would skip the second factor: it sends people to the portal's.
# (Before `admin.site.urls` is read below, which binds the login view.)
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", district_views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/", include(account_urls)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("districts.urls")),
    # Playbooks and places before the documents: /protocols/<slug>/ would take /protocols/playbooks/.
    path("protocols/", include("protocols.urls_playbooks")),
    path("", include("protocols.urls")),
    path("", include("notifications.urls")),
    path("", include("responses.urls")),
    path("", include("reviews.urls")),
    path("api/", include("cvi_portal.api_urls")),
]

admin.site.site_header = "CVI Portal administration"
admin.site.site_title = "CVI Portal"

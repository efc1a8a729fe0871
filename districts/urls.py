from django.urls import path

from . import views_directory, views_users

app_name = "districts"
urlpatterns = [
    # The organisation directory: readable by CPD, analysts, outreach and administrators.
    path("directory/", views_directory.directory, name="directory"),
    path("directory/<str:number>/", views_directory.directory_district, name="directory_district"),
    # People: administrators only; the invitation link is public and needs its token.
    path("users/", views_users.PeopleView.as_view(), name="users"),
    path("users/invite/", views_users.user_invite_view, name="user_invite"),
    path("users/<uuid:code>/", views_users.user_detail, name="user"),
    path("users/<uuid:code>/deactivate/", views_users.user_deactivate_view, name="user_deactivate"),
    path("users/<uuid:code>/reactivate/", views_users.user_reactivate_view, name="user_reactivate"),
    path("users/<uuid:code>/invitation/resend/", views_users.invitation_resend_view, name="invitation_resend"),
    path("users/<uuid:code>/invitation/cancel/", views_users.invitation_cancel_view, name="invitation_cancel"),
    path("invitation/<str:token>/", views_users.invitation_accept_view, name="invitation_accept"),
]

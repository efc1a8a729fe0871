from django.urls import path

from . import views_config, views_directory, views_users

app_name = "districts"
urlpatterns = [
    # The organisation directory: readable by CPD, analysts, outreach and administrators.
    path("directory/", views_directory.directory, name="directory"),
    path("directory/<str:number>/", views_directory.directory_district, name="directory_district"),
    # Administrators: the hub, organisations and their coverage, the pilot districts.
    path("administration/", views_config.administration, name="administration"),
    path("administration/organisations/", views_config.OrganizationListView.as_view(), name="organizations"),
    path("administration/organisations/new/", views_config.organization_new, name="organization_new"),
    path("administration/organisations/<uuid:code>/", views_config.organization_edit, name="organization_edit"),
    path("administration/organisations/<uuid:code>/coverage/add/", views_config.organization_coverage_add,
         name="organization_coverage_add"),
    path("administration/organisations/<uuid:code>/coverage/remove/", views_config.organization_coverage_remove,
         name="organization_coverage_remove"),
    path("administration/districts/", views_config.district_list, name="district_list"),
    path("administration/districts/<str:number>/pilot/", views_config.district_pilot, name="district_pilot"),
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

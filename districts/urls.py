from django.urls import path

from . import views_config, views_directory

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
]

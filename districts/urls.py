from django.urls import path

from . import views_directory

app_name = "districts"
urlpatterns = [
    # The organisation directory: readable by CPD, analysts, outreach and administrators.
    path("directory/", views_directory.directory, name="directory"),
    path("directory/<str:number>/", views_directory.directory_district, name="directory_district"),
]

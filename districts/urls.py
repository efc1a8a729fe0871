from django.urls import path

from . import views

app_name = "districts"
urlpatterns = [
    # The organisation directory: readable by CPD, analysts, outreach and administrators.
    path("directory/", views.directory, name="directory"),
    path("directory/<str:number>/", views.directory_district, name="directory_district"),
]

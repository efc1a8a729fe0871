from django.urls import path

from . import api

urlpatterns = [
    path("auth/token/", api.TokenCreateApi.as_view(), name="api-token"),
    path("districts/", api.DistrictListApi.as_view(), name="api-districts"),
    path("districts/<str:number>/", api.DistrictDetailApi.as_view(), name="api-district"),
    path("organizations/", api.OrganizationListApi.as_view(), name="api-organizations"),
    path("hospitals/", api.HospitalListApi.as_view(), name="api-hospitals"),
]
